# bash completion for ctr (ctrd). Commands and flags from ctr(1); container
# ids from the running daemon (`ctr containers`, honouring --address).
_ctr_containers()
{
  local addr=() i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in
      --address|-address) addr=(--address "${COMP_WORDS[i+1]}") ;;
      --address=*|-address=*) addr=(--address "${COMP_WORDS[i]#*=}") ;;
    esac
  done
  "${COMP_WORDS[0]}" "${addr[@]}" --conn-timeout 1s containers 2>/dev/null | awk 'NR > 1 { print $1 }'
}

_ctr()
{
  local cur prev group= sub= i w
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    case "$w" in
      --address|--conn-timeout) ((i++)); continue ;;
      -*) continue ;;
    esac
    if [[ -z $group ]]; then group=$w; elif [[ -z $sub ]]; then sub=$w; fi
  done

  local flags=
  case "$group/$sub" in
    /) flags="--address --conn-timeout --debug --help --version"
       [[ $cur == -* ]] || { COMPREPLY=($(compgen -W "checkpoints containers events state version help" -- "$cur")); return; } ;;
    containers/) [[ $cur == -* ]] || { COMPREPLY=($(compgen -W "exec kill list pause resume start state stats update watch $(_ctr_containers)" -- "$cur")); return; } ;;
    checkpoints/) [[ $cur == -* ]] || { COMPREPLY=($(compgen -W "create delete list $(_ctr_containers)" -- "$cur")); return; } ;;
    containers/start) flags="--attach --checkpoint --checkpoint-dir --label --no-pivot --runtime --runtime-args" ;;
    containers/exec) flags="--id --pid --attach --cwd --tty --env --uid --gid"
       [[ $prev == --id ]] && { COMPREPLY=($(compgen -W "$(_ctr_containers)" -- "$cur")); return; } ;;
    containers/kill) flags="--pid --signal" ;;
    containers/update) flags="--memory-limit --memory-reservation --memory-swap --cpu-shares --cpu-quota --cpu-period --kernel-limit --kernel-tcp-limit --blkio-weight --pids-limit --cpu-realtime-period --cpu-realtime-runtime --cpuset-cpus --cpuset-mems" ;;
    containers/stats) flags="--json --watch" ;;
    containers/list|containers/watch|containers/state|state/*) flags="--json" ;;
    checkpoints/create) flags="--exit --tcp --unix-sockets --shell --empty-ns --checkpoint-dir" ;;
    checkpoints/list) flags="--checkpoint-dir --json" ;;
    checkpoints/delete) flags="--checkpoint-dir" ;;
    events/*) flags="--timestamp --json" ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$flags --help" -- "$cur"))
  elif [[ $group == containers || $group == checkpoints ]]; then
    COMPREPLY=($(compgen -W "$(_ctr_containers)" -- "$cur"))
  fi
}
complete -F _ctr ctr
