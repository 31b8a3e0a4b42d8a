{{/*
The metadata lines put on every CRD, indented for the top-level `metadata:` of a CRD file:
the chart's labels (so the release's objects can be listed by label) and the keep policy.
*/}}
{{- define "dynamo-crds.metadata" -}}
metadata:
{{- if or .Values.keep .Values.annotations }}
  annotations:
{{- if .Values.keep }}
    helm.sh/resource-policy: keep
{{- end }}
{{- with .Values.annotations }}
{{ toYaml . | indent 4 }}
{{- end }}
{{- end }}
  labels:
    app.kubernetes.io/name: {{ .Chart.Name }}
    app.kubernetes.io/instance: {{ .Release.Name }}
    app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
    app.kubernetes.io/managed-by: {{ .Release.Service }}
    app.kubernetes.io/part-of: dynamo-operator
    helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- with .Values.labels }}
{{ toYaml . | indent 4 }}
{{- end }}
{{ end -}}
