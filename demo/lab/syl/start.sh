# Runs at boot in syl (its share, /mnt/host): its address on the lab LAN.
ip addr add 10.0.0.3/24 dev eth0
ip link set eth0 up
