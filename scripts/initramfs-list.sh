# Sourced by link-kernel.sh and make-cpio.sh (which define die()).
#
# check_initramfs_list LIST: checks a gen_init_cpio list's "file" lines:
# ${VAR}s set, locations absolute, files exist. gen_init_cpio would expand
# an unset ${VAR} to "" and silently pick up host files; relative locations
# would depend on the directory it runs in.
check_initramfs_list() {
    local list=$1 n=0 line type name loc rest exp var
    while IFS= read -r line || [[ -n $line ]]; do
        n=$((n + 1))
        read -r type name loc rest <<<"$line" || true
        [[ $type == file ]] || continue
        exp=$loc
        while [[ $exp =~ \$\{([A-Za-z_][A-Za-z0-9_]*)\} ]]; do
            var=${BASH_REMATCH[1]}
            printenv "$var" >/dev/null || die "$list:$n: \${$var} is not in the environment (export it): $line"
            exp=${exp//"\${$var}"/${!var}}
        done
        [[ $exp == /* ]] || die "$list:$n: file location must be absolute: $line"
        [[ -f $exp ]] || die "$list:$n: no such file: $exp"
    done <"$list"
}
