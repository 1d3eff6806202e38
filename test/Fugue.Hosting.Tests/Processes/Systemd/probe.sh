#!/bin/bash
# Runs inside the container, under systemd as PID 1: drives the sample units and writes one "key value" line per fact
# to /srv/out/result (spaces in a value become _), the unit's journal to /srv/out/journal, then powers the container off.
out=/srv/out/result
: > $out
say() { echo "$1 $(echo "$2" | tr ' ' _)" >> $out; }
get() {
    exec 3<>/dev/tcp/127.0.0.1/80 || return 1
    printf 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
    timeout 30 cat <&3 | tail -n 1
    exec 3<&-
}
prop() { systemctl show -p "$1" --value helloweb.service; }
until_changed() { # property, old value: waits (at most 60 s) until it is another non-zero value
    for _ in $(seq 1 120); do v=$(prop "$1"); [ "$v" != "$2" ] && [ "$v" != 0 ] && break; sleep 0.5; done
    echo "$v"
}
finish() {
    journalctl -b --no-pager -u helloweb.service -u helloweb.socket > /srv/out/journal 2>&1
    systemctl poweroff
}
trap finish EXIT

say pid1 "$(cat /proc/1/comm)"
systemctl start helloweb.socket
say socket "$(systemctl is-active helloweb.socket)"
say first "$(get)"                                  # socket activation starts the service: its first worker answers
systemctl start helloweb.service                    # waits for the start job: READY=1 once every worker is ready
say active "$(prop ActiveState)"
m1=$(prop MainPID); say mainpid "$m1"
say status "$(prop StatusText)"
systemctl reload helloweb.service; say reload_rc $?   # ExecReload: the app's own fugue reload waits for the roll
say after_reload "$(get)"
usr2() { # old main pid: a USR2 to the main process; the new main pid, once the old master is gone
    systemctl kill -s USR2 --kill-whom=main helloweb.service
    local new; new=$(until_changed MainPID "$1")
    for _ in $(seq 1 120); do [ -d /proc/$1 ] || break; sleep 0.5; done
    [ -d /proc/$1 ] && echo "$new-old-master-still-there" || echo "$new"
}
m2=$(usr2 "$m1"); say usr2_mainpid "$m2"
say after_usr2 "$(get)"
sleep 9                                             # three WatchdogSec=3 periods: a master that did not pet is killed
say watchdog "$(prop ActiveState) $(prop MainPID) $(prop NRestarts)"
systemctl stop helloweb.service; say stop_rc $?     # the master systemd took over from the pid file drains its workers
say stopped "$(prop ActiveState) $(prop Result)"
say left "$(grep -l HelloWeb /proc/[0-9]*/comm 2>/dev/null | wc -l)"

systemctl start helloweb.service
m4=$(prop MainPID); m5=$(usr2 "$m4"); say usr2_again "$([ "$m5" != "$m4" ] && echo yes || echo no)"
kill -KILL "$m5"                                    # a crash: systemd must see its main process die (Restart=on-failure)
m6=$(until_changed MainPID "$m5"); say crash_mainpid "$m6"
for _ in $(seq 1 120); do [ "$(prop ActiveState)" = active ] && break; sleep 0.5; done
say after_crash "$(prop ActiveState) $(prop NRestarts)"
say crash_serves "$(get)"
systemctl stop helloweb.service helloweb.socket; say last_stop "$(prop ActiveState) $(prop Result)"
say last_left "$(grep -l HelloWeb /proc/[0-9]*/comm 2>/dev/null | wc -l)"
