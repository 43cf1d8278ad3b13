#!/usr/bin/python3
# The Kubernetes manifests (make test-kubernetes, part of make test): both
# variants (the node's namespace; --all-netns) parse, and their image,
# arguments, capabilities, host namespaces, read-only root and metrics path
# agree with the binary, the image script and the README. The arguments are
# run by the binary itself, as a dry run in private namespaces.
import os
import re
import subprocess
import sys
import tempfile

import yaml

MANIFEST = "scripts/kubernetes/tcp-closer.yaml"
BIN = os.environ.get("TCP_CLOSER", "build/tcp_closer")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


def variant(text, all_netns):
    """The file as written, or with its --all-netns lines swapped in."""
    if not all_netns:
        return text
    out = []
    for line in text.splitlines():
        if line.rstrip().endswith("#~drop"):
            continue
        m = re.match(r"^(\s*)#~ (.*)$", line)
        out.append(m.group(1) + m.group(2) if m else line)
    return "\n".join(out) + "\n"


def version():
    src = open("src/core/options.cpp").read()
    return re.search(r'^#define TC_VERSION "(.*)"$', src, re.M).group(1)


def image_user():
    script = open("scripts/image.sh").read()
    check("setcap cap_net_admin=p " in script, "image.sh no longer gives the binary cap_net_admin=p")
    return re.search(r"--config.user (\d+):(\d+)", script).group(1)


def run_args(args, all_netns, tmp):
    """The binary's answer to these arguments, as a dry run: private
    network, PID and mount namespaces, an empty /run (no named namespace of
    the machine's), stopped by SIGTERM after a second."""
    inner = "mount -t tmpfs tmpfs /run && exec timeout --preserve-status -s TERM 1.5 \"$@\""
    cmd = ["unshare", "-n", "-p", "-f", "-m", "--mount-proc", "sh", "-c", inner, "sh", BIN, "-n"] + args
    return subprocess.run(cmd, capture_output=True, text=True)


def check_variant(text, all_netns, readme):
    name = "--all-netns variant" if all_netns else "plain"
    docs = [d for d in yaml.safe_load_all(variant(text, all_netns)) if d]
    kinds = {d["kind"]: d for d in docs}
    if not check(set(kinds) == {"ConfigMap", "DaemonSet"}, f"{name}: kinds {sorted(kinds)}"):
        return
    conf = kinds["ConfigMap"]["data"]
    pod = kinds["DaemonSet"]["spec"]["template"]["spec"]
    check(pod.get("hostNetwork") is True, f"{name}: not in the host network namespace")
    check(bool(pod.get("hostPID")) == all_netns, f"{name}: hostPID is {pod.get('hostPID')}")
    by_name = {c["name"]: c for c in pod["containers"]}
    tc, ne = by_name.get("tcp-closer"), by_name.get("metrics")
    if not check(tc and ne, f"{name}: containers {sorted(by_name)}"):
        return

    image = tc["image"]
    check(image.endswith("/tcp_closer:" + version()), f"{name}: image {image} is not version {version()}")
    check(image in readme, f"{name}: the README does not push {image}")

    args = list(tc["args"])
    # Applied as shipped, it must end nothing on any node: a dry run.
    check("-n" in args or "--dry-run" in args, f"{name}: the shipped manifest is not a dry run: {args}")
    check(not any("$(" in a for a in args), f"{name}: unresolved {args}")
    check(("--all-netns" in args) == all_netns, f"{name}: --all-netns in args is {('--all-netns' in args)}")
    # The rules: the ConfigMap's file, mounted where --rules reads it, and
    # checked by the init container first.
    rules_path = args[args.index("--rules") + 1] if check("--rules" in args, f"{name}: no --rules") else ""
    vols = {v["name"]: v for v in pod["volumes"]}
    rules_vol = next((m for m in tc.get("volumeMounts", []) if m["mountPath"] == os.path.dirname(rules_path)), None)
    if check(rules_vol, f"{name}: {rules_path} is on no volume"):
        cm = vols.get(rules_vol["name"], {}).get("configMap", {})
        check(cm.get("name") == kinds["ConfigMap"]["metadata"]["name"], f"{name}: the rules are not the ConfigMap's")
        check({"key": "rules", "path": os.path.basename(rules_path)} in cm.get("items", []),
              f"{name}: the ConfigMap's rules key is not at {rules_path}")
        check(rules_vol.get("readOnly") is True, f"{name}: the rules volume is writable")
    init = {c["name"]: c for c in pod.get("initContainers", [])}.get("check-rules")
    if check(init, f"{name}: no init container checks the rules"):
        check(init["args"] == ["--rules", rules_path, "--check"], f"{name}: the init container runs {init['args']}")
        check(init["image"] == tc["image"], f"{name}: the init container runs another image")
        check(init["securityContext"]["capabilities"].get("drop") == ["ALL"], f"{name}: the check keeps capabilities")

    # The metrics file: on the shared emptyDir, where node_exporter reads.
    if not check("--metrics" in args, f"{name}: no --metrics"):
        return
    path = args[args.index("--metrics") + 1]
    mounts = {m["name"]: m for m in tc.get("volumeMounts", [])}
    vol = next((m for m in mounts.values() if m["mountPath"] == os.path.dirname(path)), None)
    if check(vol, f"{name}: {path} is on no volume"):
        vols = {v["name"]: v for v in pod["volumes"]}
        check("emptyDir" in vols.get(vol["name"], {}), f"{name}: the metrics volume is not an emptyDir")
        ne_mount = next((m for m in ne["volumeMounts"] if m["name"] == vol["name"]), None)
        if check(ne_mount, f"{name}: node_exporter does not mount the metrics volume"):
            check(f"--collector.textfile.directory={ne_mount['mountPath']}" in ne["args"],
                  f"{name}: node_exporter reads another directory")
            check(ne_mount.get("readOnly") is True, f"{name}: node_exporter may write the metrics volume")
    check("--collector.textfile" in ne["args"], f"{name}: node_exporter without its textfile collector")
    port = ne["ports"][0]["containerPort"]
    check(f"--web.listen-address=:{port}" in ne["args"], f"{name}: node_exporter listens elsewhere than {port}")
    check(str(port) in readme, f"{name}: the README does not name port {port}")
    ann = kinds["DaemonSet"]["spec"]["template"]["metadata"].get("annotations", {})
    check(ann.get("prometheus.io/port") == str(port), f"{name}: the scrape annotation names another port")

    # Privileges: everything dropped but what the variant needs.
    sc = tc["securityContext"]
    caps = sc["capabilities"]
    check(caps.get("drop") == ["ALL"], f"{name}: drops {caps.get('drop')}")
    want = {"NET_ADMIN", "SYS_ADMIN", "SYS_PTRACE"} if all_netns else {"NET_ADMIN"}
    check(set(caps.get("add", [])) == want, f"{name}: adds {caps.get('add')}, wants {sorted(want)}")
    for cap in want:
        check(cap in readme, f"{name}: the README does not say what {cap} is for")
    check(sc.get("readOnlyRootFilesystem") is True, f"{name}: the root filesystem is writable")
    check(ne["securityContext"].get("readOnlyRootFilesystem") is True, f"{name}: node_exporter's root is writable")
    check(ne["securityContext"]["capabilities"].get("drop") == ["ALL"], f"{name}: node_exporter keeps capabilities")
    if all_netns:
        check(sc.get("runAsUser") == 0, f"{name}: --all-netns needs root, runs as {sc.get('runAsUser')}")
    else:
        check(str(sc.get("runAsUser")) == image_user(), f"{name}: runs as {sc.get('runAsUser')}, the image as {image_user()}")
        check(sc.get("runAsNonRoot") is True, f"{name}: runAsNonRoot is not set")
        # The file capability needs it (no_new_privs would ignore it).
        check(sc.get("allowPrivilegeEscalation") is True, f"{name}: the file capability cannot apply")
    for c in (tc, ne):
        check(c.get("resources", {}).get("limits", {}).get("memory"), f"{name}: {c['name']} has no memory limit")

    # The binary takes these arguments with the ConfigMap's rules, checks
    # them as the init container does, and writes the metrics file.
    with tempfile.TemporaryDirectory() as tmp:
        rules_file = os.path.join(tmp, "rules")
        with open(rules_file, "w") as f:
            f.write(conf["rules"])
        c = subprocess.run(["unshare", "-n", BIN, "--rules", rules_file, "--check"], capture_output=True, text=True)
        check(c.returncode == 0 and c.stdout == "1 rule\n", f"{name}: the ConfigMap's rules: {c.stdout}{c.stderr}")
        local = [{path: os.path.join(tmp, "tcp_closer.prom"), rules_path: rules_file}.get(a, a) for a in args]
        r = run_args(local, all_netns, tmp)
        check(r.returncode == 0, f"{name}: the binary exits {r.returncode} on {args}: {r.stderr.strip()}")
        written = os.path.join(tmp, "tcp_closer.prom")
        check(os.path.exists(written) and "tcp_closer_polls_total" in open(written).read(),
              f"{name}: no metrics file from {args}: {r.stderr.strip()}")


def main():
    text = open(MANIFEST).read()
    readme = open("README.md").read()
    check(MANIFEST in readme, "the README does not point at " + MANIFEST)
    check("#~ " in text and "#~drop" in text, "the --all-netns variant is gone")
    head = text[:text.index("apiVersion")]
    check("DRY RUN" in head and 'delete the "-n" line' in head, "the top does not say it is a dry run, nor how to act")
    check("it is root on the\n# node" in head, "the top does not say the --all-netns variant is root on the node")
    for all_netns in (False, True):
        check_variant(text, all_netns, readme)
    if failures:
        for f in failures:
            print("test_manifests: FAIL: " + f, file=sys.stderr)
        return 1
    print(f"test_manifests: ok ({MANIFEST}: both variants agree with the binary, image.sh and the README)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
