{{/* Always <release>-nats: the operator chart derives the NATS address from it. */}}
{{- define "nats.fullname" -}}
{{- printf "%s-nats" .Release.Name | trunc 55 | trimSuffix "-" -}}
{{- end -}}

{{- define "nats.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dynamo-platform
{{- end -}}

{{- define "nats.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: nats
{{- end -}}

{{/* nats.conf */}}
{{- define "nats.conf" -}}
{{- $c := .Values.config -}}
{{- $js := $c.jetstream -}}
server_name: $SERVER_NAME
port: {{ $c.nats.port }}
{{- if $c.monitor.enabled }}
http_port: {{ $c.monitor.port }}
{{- end }}
lame_duck_duration: 30s
lame_duck_grace_period: 10s
pid_file: /var/run/nats/nats.pid
{{- if $js.enabled }}
jetstream {
{{- if $js.fileStore.enabled }}
  store_dir: {{ $js.fileStore.dir | quote }}
{{- with $js.fileStore.maxSize }}
  max_file_store: {{ . }}
{{- end }}
{{- else }}
  max_file_store: 0
{{- end }}
{{- if $js.memoryStore.enabled }}
  max_memory_store: {{ $js.memoryStore.maxSize }}
{{- else }}
  max_memory_store: 0
{{- end }}
}
{{- end }}
{{- range $key, $value := $c.merge }}
{{ $key }}: {{ toJson $value }}
{{- end }}
{{- end -}}
