#!/usr/bin/env python3
"""Validates Kubernetes manifests strictly, failing on anything it cannot check.

    validate_manifests.py K8S_VERSION CRDS.yaml FILE...

FILE is YAML (one or more documents) or Markdown, whose ```yaml blocks are read. Built-in
kinds are checked with PyPI kubernetes-validate in strict mode (unknown fields refused)
against K8S_VERSION's schemas; the kinds of CRDS.yaml (vmafx.io) against the CRD's own
openAPIV3Schema, with unknown fields refused as the API server prunes and refuses them.
A kind with no schema is an error, not a warning. Prints one line per document; exits 1 on
any failure.
"""

import copy
import re
import sys

import jsonschema
import kubernetes_validate
import yaml


def documents(path):
    text = open(path).read()
    if path.endswith(".md"):
        text = "\n---\n".join(re.findall(r"^```yaml\n(.*?)^```", text, flags=re.S | re.M))
    return [d for d in yaml.safe_load_all(text) if d]


def closed(schema):
    """A CRD schema with additionalProperties false wherever properties are listed and the
    schema does not keep unknown fields: what the API server's pruning amounts to."""
    schema = copy.deepcopy(schema)

    def walk(s):
        if not isinstance(s, dict):
            return
        if "properties" in s and "additionalProperties" not in s and not s.get("x-kubernetes-preserve-unknown-fields"):
            s["additionalProperties"] = False
        for v in s.values():
            if isinstance(v, dict):
                walk(v)
            elif isinstance(v, list):
                for i in v:
                    walk(i)

    walk(schema)
    return schema


version, crds_path, *files = sys.argv[1:]
custom = {}
for crd in documents(crds_path):
    for v in crd["spec"]["versions"]:
        key = (f"{crd['spec']['group']}/{v['name']}", crd["spec"]["names"]["kind"])
        schema = closed(v["schema"]["openAPIV3Schema"])
        # metadata is the API server's, not the CRD's.
        schema.setdefault("properties", {})["metadata"] = {"type": "object"}
        schema["properties"]["apiVersion"] = {"type": "string"}
        schema["properties"]["kind"] = {"type": "string"}
        custom[key] = schema

failed = 0
for path in files:
    for doc in documents(path):
        what = f"{path}: {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        key = (doc.get("apiVersion"), doc.get("kind"))
        try:
            if key in custom:
                jsonschema.Draft7Validator(custom[key]).validate(doc)
            else:
                kubernetes_validate.validate(doc, version, strict=True)
            print(f"ok {what}")
        except jsonschema.ValidationError as e:
            failed += 1
            print(f"FAIL {what}: {'.'.join(map(str, e.path))}: {e.message}")
        except kubernetes_validate.utils.SchemaNotFoundError as e:
            failed += 1
            print(f"FAIL {what}: {e.message}")
sys.exit(1 if failed else 0)
