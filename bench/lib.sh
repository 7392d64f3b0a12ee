# Shared by the bench scripts (sourced, not run): installing the tools, free loopback
# ports, starting servers pinned to one core and stopping exactly those, measuring a
# server's CPU per request and peak memory (PSS), and the alternating rounds that give each line
# its median.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
ROUNDS=${ROUNDS:-3}             # rounds per line; each round runs every server once, in turn
DURATION=${DURATION:-5}         # seconds per timed load
SERVER_CPU=${SERVER_CPU:-0}     # the core every server is pinned to
LOAD_CPU=${LOAD_CPU:-1}         # the core every load generator is pinned to
RESULTS=${RESULTS:-}            # run-all collects the rows here

WORK=$(mktemp -d /tmp/appserver-bench.XXXXXX)
chmod 755 "$WORK"               # peers drop to unprivileged users that must read their files
STARTED=()
REMOVE_ON_EXIT=()               # files a script had to place outside $WORK
STOP_ON_EXIT=()                 # commands that stop a server which does not stay the process started
LINES_FAILED=0                  # lines printed as failed: the script then exits non-zero
declare -A PID PORT

cleanup() {
    local status=$? pid command
    for command in "${STOP_ON_EXIT[@]}"; do eval "$command" >/dev/null 2>&1 || true; done
    for pid in "${STARTED[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${STARTED[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK" "${REMOVE_ON_EXIT[@]}"
    if [ "$status" -eq 0 ] && [ "$LINES_FAILED" -gt 0 ]; then echo "$LINES_FAILED line(s) failed" >&2; exit 1; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"


as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# need COMMAND:PACKAGE ... — apt-get installs the packages whose command is missing.
need() {
    local missing=() item
    for item in "$@"; do
        command -v "${item%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${item%%:*}" ] || missing+=("${item#*:}")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing ${missing[*]}" >&2
    # Servers installed here must not start as system services (they would take ports 53,
    # 25 and 21 and run on after the bench): policy-rc.d says no for the install.
    local policy=/usr/sbin/policy-rc.d placed=""
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null && as_root chmod +x "$policy" && placed=yes
    fi
    as_root apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || {
        [ -n "$placed" ] && as_root rm -f "$policy"; return 1; }
    [ -n "$placed" ] && as_root rm -f "$policy"
    return 0
}

need pgrep:procps taskset:util-linux bc:bc python3:python3

need_python() {
    python3 -c "import $1" 2>/dev/null && return 0
    echo "installing $2 from PyPI" >&2
    python3 -m pip --version >/dev/null 2>&1 || need no-such-command:python3-pip
    python3 -m pip install -q "$2" >&2 2>/dev/null || python3 -m pip install -q --break-system-packages "$2" >&2
}

# The release build of appserver (built once if missing).
appserver_binary() {
    (cd "$REPO" && swift build -c release --product appserver >&2 && echo "$(swift build -c release --show-bin-path)/appserver")
}

# A port free on 127.0.0.1 for both TCP and UDP.
free_port() {
    python3 - <<'PY'
import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port)); print(port); break
    except OSError:
        pass
    finally:
        u.close(); t.close()
PY
}

# start NAME COMMAND... — runs a server in $WORK pinned to SERVER_CPU (to the cores in
# CPUS if set: `CPUS=0,1 start ...`), output in $WORK/NAME.log.
start() {
    local name=$1; shift
    (cd "$WORK" && exec taskset -c "${CPUS:-$SERVER_CPU}" "$@" >"$WORK/$name.log" 2>&1) &
    PID[$name]=$!
    STARTED+=($!)
}

# wait_port NAME — until the server named accepts TCP on its port (or died: its log is shown).
wait_port() {
    local name=$1
    for _ in $(seq 100); do
        if ! kill -0 "${PID[$name]}" 2>/dev/null; then
            echo "$name did not start:" >&2; cat "$WORK/$name.log" >&2; exit 1
        fi
        python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 0.2)" "${PORT[$name]}" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "$name is not listening on ${PORT[$name]}" >&2; cat "$WORK/$name.log" >&2; exit 1
}

# On the load core (the cores in LOAD_CPUS if set), bounded in time whatever the tool does.
load() { timeout $((DURATION * 4 + 60)) taskset -c "${LOAD_CPUS:-$LOAD_CPU}" "$@"; }

# A process and all its descendants.
tree() {
    local pid=$1 child
    echo "$pid"
    for child in $(pgrep -P "$pid" 2>/dev/null); do tree "$child"; done
}

# Clock ticks of CPU (user and system) a server's processes have used so far, with those
# of the children they reaped (vsftpd's and Postfix's per-session processes), so that the
# difference over a load is the server's whatever it starts and ends meanwhile.
cpu_ticks() {
    local total=0 pid ticks
    for pid in $(tree "$1"); do
        ticks=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || true)
        total=$((total + ${ticks:-0}))
    done
    echo "$total"
}
CLOCK_TICKS=$(getconf CLK_TCK)

# sample_memory PID FILE — until FILE.run is removed, keeps in FILE the largest memory (MB)
# seen for the server's processes, read twice a second from the load core.
sample_memory() {
    local pid=$1 file=$2 largest=0 now
    while [ -e "$file.run" ]; do
        now=$(memory_mb "$pid")
        largest=$(echo "if ($now > $largest) $now else $largest" | bc)
        echo "$largest" >"$file"
        sleep 0.5
    done
}

# The proportional set size (PSS) of a server's processes, summed, in MB: each shared page
# counts once over all the processes that map it (a supervisor and its children share the
# Swift runtime, nginx's master and workers their binary, Postfix's two dozen processes
# their libraries), where summing RSS would count it in each.
memory_mb() {
    local total=0 pid kb
    for pid in $(tree "$1"); do
        kb=$(awk '$1 == "Pss:" {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || true)
        total=$((total + ${kb:-0}))
    done
    echo "scale=1; $total / 1024" | bc
}

median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# compare LINE UNIT BETTER FUNCTION SERVER... — runs `FUNCTION SERVER` for every server
# in turn, ROUNDS times, the order reversed every other round, and prints a row per peer
# with the medians, the ratio first server/peer, each one's CPU per unit of work (µs per
# request, query, message or MB: from /proc/PID/stat of all its processes, before and
# after) and that ratio, and the peak memory. FUNCTION prints a rate, or a rate and the units
# of work done when the load did not last DURATION seconds. A round that gives no number
# (or 0) fails its line, which is printed as failed: never a 0 in a median.
# BETTER is `higher` or `lower`.
compare() {
    local line=$1 unit=$2 better=$3 fn=$4; shift 4
    local servers=("$@") round server output value done before after peak sampled order
    declare -A values cpus memory failures
    for round in $(seq "$ROUNDS"); do
        order=("${servers[@]}")
        if [ $((round % 2)) = 0 ]; then order=($(printf '%s\n' "${servers[@]}" | tac)); fi
        for server in "${order[@]}"; do
            touch "$WORK/memory.run"
            taskset -c "$LOAD_CPU" bash -c "$(declare -f sample_memory memory_mb tree); sample_memory ${PID[$server]} $WORK/memory" &
            local sampler=$!
            before=$(cpu_ticks "${PID[$server]}")
            output=$("$fn" "$server") || true
            after=$(cpu_ticks "${PID[$server]}")
            peak=$(memory_mb "${PID[$server]}")
            rm -f "$WORK/memory.run"
            wait "$sampler" 2>/dev/null || true
            read -r value done _ <<<"$output" || true
            if ! [[ $value =~ ^[0-9.]+$ ]] || [ "$(echo "$value == 0" | bc)" = 1 ]; then
                echo "  $line, round $round, $server: FAILED (gave '$output')" >&2
                failures[$server]+="$round "
                continue
            fi
            values[$server]+="$value "
            if [[ $unit == */s ]]; then
                [[ $done =~ ^[0-9.]+$ ]] || done=$(echo "$value * $DURATION" | bc)
                cpus[$server]+="$(echo "scale=3; ($after - $before) * 1000000 / $CLOCK_TICKS / $done" | bc) "
            fi
            sampled=$(cat "$WORK/memory" 2>/dev/null || echo 0)
            memory[$server]+="$(echo "if ($sampled > $peak) $sampled else $peak" | bc) "
            echo "  $line, round $round, $server: $value $unit" >&2
        done
    done
    local us=${servers[0]} per="${unit%/s}" ours ours_cpu ours_memory peer theirs theirs_cpu
    ours=$(tr ' ' '\n' <<<"${values[$us]:-}" | grep . | median)
    ours_cpu=$(tr ' ' '\n' <<<"${cpus[$us]:-}" | { grep . || true; } | median)
    ours_memory=$(tr ' ' '\n' <<<"${memory[$us]:-}" | grep . | sort -g | tail -1)
    for peer in "${servers[@]:1}"; do
        if [ -n "${failures[$us]:-}${failures[$peer]:-}" ]; then
            LINES_FAILED=$((LINES_FAILED + 1))
            row "$line" "${failures[$us]:+failed in round(s) ${failures[$us]}}" "$peer" "${failures[$peer]:+failed in round(s) ${failures[$peer]}}" \
                "FAILED" "" "" ""
            continue
        fi
        theirs=$(tr ' ' '\n' <<<"${values[$peer]}" | grep . | median)
        if [[ $unit == */s ]]; then
            theirs_cpu=$(tr ' ' '\n' <<<"${cpus[$peer]}" | grep . | median)
            local cpu_text="$(fmt "$ours_cpu") / $(fmt "$theirs_cpu") µs/$per" cpu_ratio
            cpu_ratio=$(ratio "$ours_cpu" "$theirs_cpu" lower)
        else
            local cpu_text="-" cpu_ratio="-"
        fi
        row "$line" "$(fmt "$ours") $unit" "$peer" "$(fmt "$theirs") $unit" "$(ratio "$ours" "$theirs" "$better")" \
            "$cpu_text" "$cpu_ratio" "$ours_memory / $(tr ' ' '\n' <<<"${memory[$peer]}" | grep . | sort -g | tail -1) MB"
    done
}

# The ratio appserver/peer, marked when appserver is behind.
ratio() {
    local ours=$1 theirs=$2 better=$3 r
    if [ "$(echo "$theirs == 0" | bc)" = 1 ] || [ "$(echo "$ours == 0" | bc)" = 1 ]; then echo "n/a"; return; fi
    r=$(echo "scale=2; $ours / $theirs" | bc | sed 's/^\./0./')
    if [ "$better" = lower ]; then
        [ "$(echo "$r <= 1" | bc)" = 1 ] && echo "${r}x (lower is better)" || echo "**${r}x** (lower is better)"
    else
        [ "$(echo "$r >= 1" | bc)" = 1 ] && echo "${r}x" || echo "**${r}x**"
    fi
}

fmt() { awk -v v="$1" 'BEGIN { if (v >= 100) printf "%.0f", v; else printf "%.3g", v }'; }

row() {
    local text="| $SERVICE | $1 | $2 | $3 | $4 | $5 | $6 | $7 | $8 |"
    echo "$text"
    [ -n "$RESULTS" ] && echo "$text" >>"$RESULTS"
    return 0
}

TABLE_HEADER="| service | line | appserver | peer | peer result | ratio | server CPU per unit, appserver / peer | CPU ratio | peak memory (PSS) appserver / peer |
|---|---|---|---|---|---|---|---|---|"
header() { echo "$TABLE_HEADER"; }
