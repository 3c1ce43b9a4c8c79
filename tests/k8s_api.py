#!/usr/bin/env python3
"""A fake Kubernetes API server for the operator's end-to-end tests.

It is PyPI's kmock (its KubernetesEmulator serves discovery, get, list and watch streams from
objects it keeps in memory) with the writes an operator relies on done the way the API server
does them, which kmock leaves out:

- create sets uid, resourceVersion, generation, creationTimestamp and the namespace, and
  refuses a name in use (409 AlreadyExists);
- every write bumps one cluster-wide resourceVersion; a write that names a stale
  resourceVersion is refused (409 Conflict), so a leader-election Lease works;
- PUT replaces; PATCH takes JSON patch (RFC 6902, with `test`), JSON merge patch (RFC 7386),
  strategic merge (as merge) and server-side apply (as a merge that creates a missing object;
  field ownership is not tracked);
- the `status` subresource: writes to it change only `.status`, writes to the object never
  change `.status`; a changed `.spec` bumps `metadata.generation`;
- delete honours finalizers (deletionTimestamp first, removal when the last finalizer goes)
  and then deletes what the object owns (ownerReferences), as the garbage collector would,
  also an object created later for an owner already gone.

No admission, validation or defaulting. Usage: k8s_api.py [--port N]; prints
`k8s-api: listening on http://127.0.0.1:PORT` once it serves.
"""

import argparse
import asyncio
import copy
import datetime
import json
import sys
import uuid

import aiohttp.web
import kmock

RESOURCES = {
    "vmafx.io/v1alpha1/vmafxjobs": kmock.ResourceInfo(kind="VmafxJob", namespaced=True, subresources={"status"}),
    "vmafx.io/v1alpha1/vmafxnodes": kmock.ResourceInfo(kind="VmafxNode", namespaced=False, subresources={"status"}),
    "vmafx.io/v1alpha1/vmafxmodeltrainings": kmock.ResourceInfo(
        kind="VmafxModelTraining", namespaced=True, subresources={"status"}
    ),
    "apps/v1/deployments": kmock.ResourceInfo(kind="Deployment", namespaced=True, subresources={"status", "scale"}),
    "autoscaling/v2/horizontalpodautoscalers": kmock.ResourceInfo(
        kind="HorizontalPodAutoscaler", namespaced=True, subresources={"status"}
    ),
    "coordination.k8s.io/v1/leases": kmock.ResourceInfo(kind="Lease", namespaced=True),
    "v1/secrets": kmock.ResourceInfo(kind="Secret", namespaced=True),
}
# Kinds without a status subresource keep what a write gives them.
NO_STATUS = {"leases", "secrets"}


class Refused(Exception):
    def __init__(self, code, reason, message):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


def now():
    return datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise Refused(422, "Invalid", f"bad JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc, parts):
    for p in parts[:-1]:
        doc = doc[int(p)] if isinstance(doc, list) else doc[p]
    return doc


def _get(doc, parts):
    try:
        for p in parts:
            doc = doc[int(p)] if isinstance(doc, list) else doc[p]
        return doc
    except (KeyError, IndexError, ValueError, TypeError):
        return None  # the API server reads a missing path as null in `test`


def json_patch(doc, ops):
    """RFC 6902 on a copy of `doc`."""
    doc = copy.deepcopy(doc)
    try:
        for op in ops:
            kind, parts = op["op"], _pointer(op["path"])
            if kind == "test":
                if _get(doc, parts) != op.get("value"):
                    raise Refused(422, "Invalid", f"test failed at {op['path']}")
                continue
            if kind in ("move", "copy"):
                value = copy.deepcopy(_get(doc, _pointer(op["from"])))
                if kind == "move":
                    doc = json_patch(doc, [{"op": "remove", "path": op["from"]}])
                kind, op = "add", {"path": op["path"], "value": value}
            parent, last = _parent(doc, parts), parts[-1]
            if kind == "add":
                if isinstance(parent, list):
                    parent.insert(len(parent) if last == "-" else int(last), op["value"])
                else:
                    parent[last] = op["value"]
            elif kind == "remove":
                del parent[int(last) if isinstance(parent, list) else last]
            elif kind == "replace":
                if isinstance(parent, list):
                    parent[int(last)] = op["value"]
                else:
                    if last not in parent:
                        raise Refused(422, "Invalid", f"replace of a missing {op['path']}")
                    parent[last] = op["value"]
            else:
                raise Refused(422, "Invalid", f"unknown JSON patch op {kind!r}")
    except (KeyError, IndexError, ValueError, TypeError) as e:
        raise Refused(422, "Invalid", f"JSON patch does not apply: {e!r}")
    return doc


class Cluster(kmock.KubernetesEmulator):
    revision = 0

    def _next_rv(self):
        Cluster.revision += 1
        return str(Cluster.revision)

    def _current(self, key):
        if key in self._objects and not self._objects[key].deleted:
            return self._objects[key].raw
        return None

    def _store(self, key, obj):
        if key in self._objects:
            self._objects[key].history.append(obj)
        else:
            self._objects[key] = obj

    async def _handle(self, request):
        if request.resource is None or request.method not in ("POST", "PUT", "PATCH", "DELETE"):
            return await super()._handle(request)
        try:
            async with self._lock:
                code, obj, events = self._write(request)
        except Refused as e:
            return aiohttp.web.json_response(
                {"apiVersion": "v1", "kind": "Status", "metadata": {}, "status": "Failure",
                 "code": e.code, "reason": e.reason, "message": e.message},
                status=e.code,
            )
        for resource, event in events:
            await self._buses[resource].put(event)
        return aiohttp.web.json_response(obj, status=code)

    async def _render_error(self, exc):
        # kmock's own errors (a missing object on GET) with the reason the API server gives,
        # which clients match on (`NotFound`).
        code = getattr(exc, "status", 500)
        reason = {404: "NotFound", 409: "Conflict"}.get(code, "InternalError")
        return aiohttp.web.json_response(
            {"apiVersion": "v1", "kind": "Status", "metadata": {}, "status": "Failure",
             "code": code, "reason": reason, "message": getattr(exc, "message", None) or repr(exc)},
            status=code,
        )

    async def _serve_list(self, request):
        listed = await super()._serve_list(request)
        listed["metadata"]["resourceVersion"] = str(Cluster.revision)
        return listed

    def _write(self, request):
        res, ns, name, sub = request.resource, request.namespace, request.name, request.subresource
        try:
            body = json.loads(request.body) if request.body else None
        except ValueError:
            raise Refused(400, "BadRequest", "the body is not JSON")
        kind = request.headers.get("Content-Type", "").split(";")[0].strip()
        events = []

        if request.method == "POST":
            if name is not None or not isinstance(body, dict):
                raise Refused(405, "MethodNotAllowed", "POST goes to a collection with an object")
            meta = body.setdefault("metadata", {})
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
            if not meta.get("name"):
                raise Refused(422, "Invalid", "metadata.name is required")
            return self._create(res, ns, body, events)

        key = (res, ns, name)
        current = self._current(key)
        if request.method == "DELETE":
            if current is None:
                raise Refused(404, "NotFound", f"{res.plural} {name!r} not found")
            return 200, self._delete(key, current, events), events

        if request.method == "PUT":
            if current is None:
                raise Refused(404, "NotFound", f"{res.plural} {name!r} not found")
            new = body
        elif kind == "application/json-patch+json":
            if current is None:
                raise Refused(404, "NotFound", f"{res.plural} {name!r} not found")
            new = json_patch(current, body)
        elif kind == "application/apply-patch+yaml":
            if current is None:
                if sub:
                    raise Refused(404, "NotFound", f"{res.plural} {name!r} not found")
                body.setdefault("metadata", {})["name"] = name
                return self._create(res, ns, body, events)
            new = merge_patch(current, body)
        else:  # merge-patch+json, strategic-merge-patch+json
            if current is None:
                raise Refused(404, "NotFound", f"{res.plural} {name!r} not found")
            new = merge_patch(current, body)

        wanted_rv = (body or {}).get("metadata", {}).get("resourceVersion") if isinstance(body, dict) else None
        if wanted_rv and wanted_rv != current["metadata"]["resourceVersion"]:
            raise Refused(409, "Conflict", f"the object has been modified (resourceVersion {wanted_rv} is stale)")
        if res.plural not in NO_STATUS:
            if sub == "status":
                new = dict(current, status=new.get("status"))
            else:
                new = dict(new)
                if "status" in current:
                    new["status"] = current["status"]
                else:
                    new.pop("status", None)
        meta = new.setdefault("metadata", {})
        for k in ("uid", "creationTimestamp", "namespace", "name", "deletionTimestamp"):
            if k in current["metadata"]:
                meta[k] = current["metadata"][k]
        generation = current["metadata"].get("generation", 1)
        meta["generation"] = generation + 1 if new.get("spec") != current.get("spec") else generation
        meta["resourceVersion"] = self._next_rv()
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            return 200, self._delete(key, new, events, store_first=True), events
        self._store(key, new)
        events.append((res, {"type": "MODIFIED", "object": new}))
        return 200, new, events

    def _create(self, res, ns, body, events):
        meta = body["metadata"]
        key = (res, ns, meta["name"])
        if self._current(key) is not None:
            raise Refused(409, "AlreadyExists", f"{res.plural} {meta['name']!r} already exists")
        if ns is not None:
            meta["namespace"] = ns
        meta.update(uid=str(uuid.uuid4()), resourceVersion=self._next_rv(), generation=1, creationTimestamp=now())
        for k in ("deletionTimestamp",):
            meta.pop(k, None)
        if res.plural not in NO_STATUS:
            body.pop("status", None)
        self._store(key, body)
        events.append((res, {"type": "ADDED", "object": body}))
        # The garbage collector: an object whose owners are all gone goes too (a controller
        # that applied it a moment after its owner was deleted).
        owners = meta.get("ownerReferences") or []
        if owners and not any(self._owner_exists(o.get("uid")) for o in owners):
            self._delete(key, body, events)
        return 201, body, events

    def _owner_exists(self, uid):
        return any(
            (obj := self._current(k)) is not None and obj.get("metadata", {}).get("uid") == uid
            for k in list(self._objects)
        )

    def _delete(self, key, obj, events, store_first=False):
        res = key[0]
        obj = copy.deepcopy(obj)
        meta = obj["metadata"]
        if meta.get("finalizers"):
            if not meta.get("deletionTimestamp"):
                meta["deletionTimestamp"] = now()
                meta["resourceVersion"] = self._next_rv()
                self._store(key, obj)
                events.append((res, {"type": "MODIFIED", "object": obj}))
            return obj
        if store_first:
            self._store(key, obj)
        meta["resourceVersion"] = self._next_rv()
        self._objects[key].delete()
        events.append((res, {"type": "DELETED", "object": obj}))
        # The garbage collector: what this object owned goes too (finalizers still hold).
        uid = meta.get("uid")
        for other_key in list(self._objects):
            other = self._current(other_key)
            if other is None:
                continue
            owners = other.get("metadata", {}).get("ownerReferences") or []
            if any(o.get("uid") == uid for o in owners):
                self._delete(other_key, other, events)
        return obj


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    cluster = Cluster(strict=False)
    for name, info in RESOURCES.items():
        cluster.resources[name] = info
    async with cluster, kmock.Server(cluster, port=args.port) as server:
        print(f"k8s-api: listening on http://127.0.0.1:{server.port}", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
