/**
 * The scripts `qemunet completion bash|zsh` prints. Both ask `qemunet __complete` what fits, which
 * answers with a line naming the kind (words, file, dir, topology), a line with the current word as
 * it read it, then one candidate a line; the shell adds file names itself for the file kinds, so
 * its own quoting and ~ work.
 */
export const BASH_COMPLETION = `# qemunet completion for bash: source <(qemunet completion bash), e.g. in ~/.bashrc
_qemunet() {
  local -a out
  mapfile -t out < <(command qemunet __complete bash "\${COMP_LINE:0:COMP_POINT}" 2>/dev/null)
  local kind=\${out[0]} cur=\${out[1]}
  COMPREPLY=("\${out[@]:2}")
  case $kind in
    topology) compopt -o filenames 2>/dev/null; COMPREPLY+=($(compgen -d -- "$cur") $(compgen -f -X '!*.topo' -- "$cur")) ;;
    file) compopt -o filenames 2>/dev/null; COMPREPLY+=($(compgen -f -- "$cur")) ;;
    dir) compopt -o filenames 2>/dev/null; COMPREPLY+=($(compgen -d -- "$cur")) ;;
  esac
  # bash splits words at ':' (COMP_WORDBREAKS): a HOST:ethN candidate replaces only what follows it.
  if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
    local colon=\${cur%"\${cur##*:}"}
    COMPREPLY=("\${COMPREPLY[@]#"$colon"}")
  fi
}
complete -F _qemunet qemunet
`;

export const ZSH_COMPLETION = `#compdef qemunet
# qemunet completion for zsh: source <(qemunet completion zsh), after compinit
_qemunet() {
  local -a out cands
  out=("\${(@f)$(command qemunet __complete zsh "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  cands=("\${(@)out[3,-1]}")
  case $out[1] in
    topology) _files -g '*.topo'; compadd -a cands ;;
    file) _files ;;
    dir) _files -/ ;;
    *) compadd -a cands ;;
  esac
}
compdef _qemunet qemunet
`;
