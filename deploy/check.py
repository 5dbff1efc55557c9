"""`make deploy-check` (CI): what deploy/ ships renders and validates, with no network.

- Each Kustomize directory (the base and every overlay) is rendered by `kubectl kustomize` and
  every object it yields is validated against the Kubernetes schema of KUBERNETES_VERSION by
  the kubernetes-validate package, strictly (an unknown field is an error).
- deploy/compose.yaml is validated against the Compose Specification's JSON schema (vendored
  in deploy/schema/), and has the pieces docs/deploy.md promises.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

DEPLOY = Path(__file__).resolve().parent
KUBERNETES_VERSION = os.environ.get("KUBERNETES_VERSION", "1.31.0")
KUSTOMIZATIONS = [DEPLOY / "k8s" / "base", *sorted((DEPLOY / "k8s" / "overlays").iterdir())]
EXPECTED_KINDS = {
    "Deployment": {"payintents-web", "payintents-worker", "payintents-beat"},
    "Job": {"payintents-migrate"},
    "HorizontalPodAutoscaler": {"payintents-web"},
    "PodDisruptionBudget": {"payintents-web"},
    "Service": {"payintents-web"},
}
COMPOSE_SERVICES = {"postgres", "pgbouncer", "redis", "migrate", "web", "worker", "beat", "proxy"}


def render(directory: Path) -> list[dict]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        sys.exit("deploy-check: kubectl is not installed (.ci/run installs it)")
    out = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=False
    )
    if out.returncode:
        sys.exit(f"deploy-check: kubectl kustomize {directory} failed:\n{out.stderr}")
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def check_kustomization(directory: Path) -> list[str]:
    errors = []
    objects = render(directory)
    for obj in objects:
        name = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{directory.name}: {name}: {exc.message} at {list(exc.path)}")
    found: dict[str, set[str]] = {}
    for obj in objects:
        found.setdefault(obj["kind"], set()).add(obj["metadata"]["name"])
    for kind, names in EXPECTED_KINDS.items():
        missing = names - found.get(kind, set())
        if missing:
            errors.append(f"{directory.name}: no {kind} {sorted(missing)}")
    for obj in objects:
        if obj["kind"] != "Deployment":
            continue
        for container in obj["spec"]["template"]["spec"]["containers"]:
            if "requests" not in container.get("resources", {}):
                errors.append(f"{directory.name}: {obj['metadata']['name']} has no requests")
            if obj["metadata"]["name"].endswith("-web") and not (
                container.get("livenessProbe") and container.get("readinessProbe")
            ):
                errors.append(f"{directory.name}: the web Deployment lacks its probes")
    beat = next(o for o in objects if o["metadata"]["name"] == "payintents-beat")
    if beat["spec"]["replicas"] < 2:
        errors.append(f"{directory.name}: the beat Deployment should run 2 replicas (one leads)")
    print(f"deploy-check: {directory.relative_to(DEPLOY)}: {len(objects)} objects")
    return errors


def check_compose() -> list[str]:
    schema = json.loads((DEPLOY / "schema" / "compose-spec.json").read_text())
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    validator = jsonschema.Draft7Validator(schema)
    errors = [
        f"compose.yaml: {'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(compose)
    ]
    missing = COMPOSE_SERVICES - set(compose.get("services", {}))
    if missing:
        errors.append(f"compose.yaml: no service {sorted(missing)}")
    for role in ("web", "worker", "beat"):
        replicas = compose["services"].get(role, {}).get("deploy", {}).get("replicas", 1)
        if replicas < 2:
            errors.append(f"compose.yaml: {role} should run 2 replicas")
    print(f"deploy-check: compose.yaml: {len(compose['services'])} services")
    return errors


def main() -> int:
    errors = [e for d in KUSTOMIZATIONS for e in check_kustomization(d)] + check_compose()
    for error in errors:
        print(f"deploy-check: {error}", file=sys.stderr)
    if not errors:
        print(f"deploy-check: every object valid (Kubernetes {KUBERNETES_VERSION}, Compose spec)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
