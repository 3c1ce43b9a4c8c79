{{/* The prefix of every object's name. */}}
{{- define "vmafx.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "vmafx.labels" -}}
app.kubernetes.io/part-of: vmafx
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "vmafx.image" -}}
{{- $root := index . 0 -}}
{{- printf "%s/%s:%s" $root.Values.image.registry (index . 1) ($root.Values.image.tag | default $root.Chart.AppVersion) -}}
{{- end -}}

{{- define "vmafx.controllerHost" -}}
{{- printf "%s-controller.%s.svc" (include "vmafx.fullname" .) .Release.Namespace -}}
{{- end -}}

{{- define "vmafx.controllerURL" -}}
{{- printf "https://%s:%d" (include "vmafx.controllerHost" .) (int .Values.controller.service.grpcPort) -}}
{{- end -}}

{{- define "vmafx.tlsSecret" -}}
{{- .Values.tls.existingSecret | default (printf "%s-tls" (include "vmafx.fullname" .)) -}}
{{- end -}}

{{- define "vmafx.joinSecret" -}}
{{- .Values.tokens.joinExistingSecret | default (printf "%s-join-token" (include "vmafx.fullname" .)) -}}
{{- end -}}

{{- define "vmafx.operatorSecret" -}}
{{- .Values.tokens.operatorExistingSecret | default (printf "%s-operator-token" (include "vmafx.fullname" .)) -}}
{{- end -}}

{{/* Restricted pod security: no root, no privilege escalation, no capabilities. */}}
{{- define "vmafx.podSecurity" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}
{{- define "vmafx.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}
