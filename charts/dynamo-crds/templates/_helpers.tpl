{{/*
The metadata lines put on every CRD, indented for the top-level `metadata:` of a CRD file:
the chart's labels (so the release's objects can be listed by label), the keep policy, and on a
CRD converted by the operator's webhook (`converted`), cert-manager's CA-injection annotation when
cert-manager issues the webhook's certificate. Called with (dict "root" $ "converted" <bool>).
*/}}
{{- define "dynamo-crds.metadata" -}}
{{- $v := .root.Values -}}
{{- $inject := and .converted $v.conversionWebhook.certManager.enabled -}}
metadata:
{{- if or $v.keep $v.annotations $inject }}
  annotations:
{{- if $v.keep }}
    helm.sh/resource-policy: keep
{{- end }}
{{- if $inject }}
    cert-manager.io/inject-ca-from: {{ include "dynamo-crds.certificate" .root | quote }}
{{- end }}
{{- with $v.annotations }}
{{ toYaml . | indent 4 }}
{{- end }}
{{- end }}
  labels:
    app.kubernetes.io/name: {{ .root.Chart.Name }}
    app.kubernetes.io/instance: {{ .root.Release.Name }}
    app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
    app.kubernetes.io/managed-by: {{ .root.Release.Service }}
    app.kubernetes.io/part-of: dynamo-operator
    helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- with $v.labels }}
{{ toYaml . | indent 4 }}
{{- end }}
{{ end -}}

{{/*
`<namespace>/<certificate>`: the cert-manager Certificate whose CA is injected into the
conversion webhook (by default the dynamo-platform chart's serving Certificate, which is named
like its webhook Service).
*/}}
{{- define "dynamo-crds.certificate" -}}
{{- $w := .Values.conversionWebhook -}}
{{- printf "%s/%s" $w.service.namespace ($w.certManager.certificate | default $w.service.name) -}}
{{- end -}}

{{/*
The conversion `clientConfig:` block of a converted CRD, indented as in the generated files:
the webhook Service from the values with the file's `path` (and `port`, if any), and the CA
bundle only when one is given (otherwise the operator or cert-manager's CA injector writes it).
Called with (dict "root" $ "block" <the file's clientConfig block>).
*/}}
{{- define "dynamo-crds.clientConfig" -}}
{{- $w := .root.Values.conversionWebhook -}}
{{- $path := regexFind "(?m)^          path: .*$" .block -}}
{{- $port := regexFind "(?m)^          port: .*$" .block -}}
{{- if not $path }}
{{- fail "a converted CRD's conversion webhook names no path: regenerate crds/ and run hack/sync-chart-crds.sh" }}
{{- end }}
      clientConfig:
{{- with $w.caBundle }}
        caBundle: {{ . | quote }}
{{- end }}
        service:
          name: {{ $w.service.name | quote }}
          namespace: {{ $w.service.namespace | quote }}
{{ $path }}
{{- with $port }}
{{ . }}
{{- end }}
{{ end -}}
