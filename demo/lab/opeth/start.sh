# Runs at boot in opeth (its share, /mnt/host): its address on the lab LAN.
ip addr add 10.0.0.2/24 dev eth0
ip link set eth0 up
