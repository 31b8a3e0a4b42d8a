{{/* Names: <release>-dynamo-operator, or the release name when it already says dynamo-operator. */}}
{{- define "dynamo-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels every object of the chart carries (the release's objects are listed by them). */}}
{{- define "dynamo-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dynamo-platform
{{- end -}}

{{/* Labels that select the operator's pods. */}}
{{- define "dynamo-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "dynamo-operator.serviceAccountName" -}}
{{- include "dynamo-operator.fullname" . -}}
{{- end -}}

{{/* The namespace a restricted operator watches, or "" in cluster-wide mode. */}}
{{- define "dynamo-operator.restrictedNamespace" -}}
{{- if .Values.namespaceRestriction.enabled -}}
{{- .Values.namespaceRestriction.targetNamespace | default .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{/* Leader election Lease name and namespace. */}}
{{- define "dynamo-operator.leaderElectionId" -}}
{{- .Values.controllerManager.leaderElection.id | default "dynamo.nvidia.com" -}}
{{- end -}}
{{- define "dynamo-operator.leaderElectionNamespace" -}}
{{- $restricted := include "dynamo-operator.restrictedNamespace" . -}}
{{- .Values.controllerManager.leaderElection.namespace | default (ternary $restricted "kube-system" (ne $restricted "")) -}}
{{- end -}}

{{/* The Lease a restricted operator holds in its namespace (Dynamo's name). */}}
{{- define "dynamo-operator.namespaceScopeLease" -}}
dynamo-operator-namespace-scope
{{- end -}}

{{/* Webhook objects: Service, the name shared by both webhook configurations, certificates. */}}
{{- define "dynamo-operator.webhookServiceName" -}}
{{- printf "%s-webhook" (include "dynamo-operator.fullname" .) -}}
{{- end -}}
{{- define "dynamo-operator.webhookConfigurationName" -}}
{{- printf "%s-webhook" (include "dynamo-operator.fullname" .) -}}
{{- end -}}
{{- define "dynamo-operator.webhookCertificateName" -}}
{{- printf "%s-webhook" (include "dynamo-operator.fullname" .) -}}
{{- end -}}

{{/*
"true" when the operator serves HTTPS on port 9443 (else ""): with admission webhooks, and in
cluster-wide mode always, because the CRDs' conversion webhook (`/convert`) is served there. The
webhook Service, the serving certificate and the container port follow this, not
`webhook.enabled`, which only decides whether admission webhooks are registered.
*/}}
{{- define "dynamo-operator.servesHTTPS" -}}
{{- if or .Values.webhook.enabled (not .Values.namespaceRestriction.enabled) -}}
true
{{- end -}}
{{- end -}}

{{/* The CRDs served at two versions whose conversion webhook is this operator's `/convert`. */}}
{{- define "dynamo-operator.convertedCRDs" -}}
{{- toJson (list "dynamographdeployments.nvidia.com" "dynamocomponentdeployments.nvidia.com" "dynamographdeploymentscalingadapters.nvidia.com" "dynamographdeploymentrequests.nvidia.com") -}}
{{- end -}}

{{/* "manual" when the certificate is mounted (cert-manager or an external Secret), else "auto". */}}
{{- define "dynamo-operator.certProvisionMode" -}}
{{- if or .Values.webhook.certManager.enabled .Values.webhook.certificateSecret.external -}}
manual
{{- else -}}
auto
{{- end -}}
{{- end -}}

{{/* Where a mounted webhook certificate lives (manual mode); auto mode writes under /tmp. */}}
{{- define "dynamo-operator.certDir" -}}
{{- if eq (include "dynamo-operator.certProvisionMode" .) "manual" -}}
/var/run/secrets/dynamo-operator/webhook
{{- else -}}
/tmp/k8s-webhook-server/serving-certs
{{- end -}}
{{- end -}}

{{/* NATS address: natsAddr, else this release's NATS when used, else "". */}}
{{- define "dynamo-operator.natsAddress" -}}
{{- if .Values.natsAddr -}}
{{- .Values.natsAddr -}}
{{- else if .Values.nats.enabled -}}
{{- printf "nats://%s-nats.%s.svc.cluster.local:4222" .Release.Name .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{/* ClusterRoles bound to the planner's and the endpoint picker's ServiceAccounts ("" = none). */}}
{{- define "dynamo-operator.plannerClusterRole" -}}
{{- if .Values.componentRoles.planner.create -}}
{{- printf "%s-planner" (include "dynamo-operator.fullname" .) -}}
{{- else -}}
{{- .Values.componentRoles.planner.clusterRoleName -}}
{{- end -}}
{{- end -}}
{{- define "dynamo-operator.eppClusterRole" -}}
{{- if .Values.componentRoles.epp.create -}}
{{- printf "%s-epp" (include "dynamo-operator.fullname" .) -}}
{{- else -}}
{{- .Values.componentRoles.epp.clusterRoleName -}}
{{- end -}}
{{- end -}}

{{/* The operator image: repository and tag (default: the chart's appVersion). */}}
{{- define "dynamo-operator.image" -}}
{{- $image := .Values.controllerManager.manager.image -}}
{{- printf "%s:%s" $image.repository ($image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/*
The OperatorConfiguration (operator.config.dynamo.nvidia.com/v1alpha1) the operator reads with
--config. Only keys the operator knows (an unknown key stops it at start-up); built as a dict so
the YAML is always well-formed.
*/}}
{{- define "dynamo-operator.config" -}}
{{- $v := .Values -}}
{{- $restricted := include "dynamo-operator.restrictedNamespace" . -}}
{{- $webhook := dict
      "enabled" $v.webhook.enabled
      "host" "0.0.0.0"
      "port" 9443
      "certProvisionMode" (include "dynamo-operator.certProvisionMode" .)
      "certDir" (include "dynamo-operator.certDir" .)
      "secretName" $v.webhook.certificateSecret.name
      "serviceName" (include "dynamo-operator.webhookServiceName" .)
      "configurationName" (include "dynamo-operator.webhookConfigurationName" .) -}}
{{- $server := dict
      "metrics" (dict "bindAddress" "0.0.0.0" "port" 8080 "secure" $v.metrics.secure)
      "healthProbe" (dict "bindAddress" "0.0.0.0" "port" 8081)
      "webhook" $webhook -}}
{{- $leader := dict "enabled" $v.controllerManager.leaderElection.enabled
      "leaseDuration" $v.controllerManager.leaderElection.leaseDuration -}}
{{- if $v.controllerManager.leaderElection.enabled -}}
{{- $_ := set $leader "id" (include "dynamo-operator.leaderElectionId" .) -}}
{{- $_ := set $leader "namespace" (include "dynamo-operator.leaderElectionNamespace" .) -}}
{{- end -}}
{{- $infra := dict -}}
{{- with (include "dynamo-operator.natsAddress" .) }}{{ $_ := set $infra "natsAddress" . }}{{ end -}}
{{- with $v.etcdAddr }}{{ $_ := set $infra "etcdAddress" . }}{{ end -}}
{{- with $v.modelExpressURL }}{{ $_ := set $infra "modelExpressURL" . }}{{ end -}}
{{- with $v.dynamo.metrics.prometheusEndpoint }}{{ $_ := set $infra "prometheusEndpoint" . }}{{ end -}}
{{- $grove := dict "terminationDelay" $v.dynamo.groveTerminationDelay -}}
{{- $lws := dict -}}
{{- $kai := dict -}}
{{- $global := $v.global | default dict -}}
{{- if (index ($global | default dict) "grove" | default dict).enabled -}}
{{- $_ := set $grove "enabled" true -}}
{{- else if kindIs "bool" $v.orchestrators.grove.enabled -}}
{{- $_ := set $grove "enabled" $v.orchestrators.grove.enabled -}}
{{- end -}}
{{- if kindIs "bool" $v.orchestrators.lws.enabled -}}
{{- $_ := set $lws "enabled" $v.orchestrators.lws.enabled -}}
{{- end -}}
{{- if (index $global "kai-scheduler" | default dict).enabled -}}
{{- $_ := set $kai "enabled" true -}}
{{- else if kindIs "bool" $v.orchestrators.kaiScheduler.enabled -}}
{{- $_ := set $kai "enabled" $v.orchestrators.kaiScheduler.enabled -}}
{{- end -}}
{{- $ingress := dict -}}
{{- if $v.dynamo.ingress.enabled -}}
{{- with $v.dynamo.ingress.className }}{{ $_ := set $ingress "controllerClassName" . }}{{ end -}}
{{- with $v.dynamo.ingress.tlsSecretName }}{{ $_ := set $ingress "controllerTLSSecretName" . }}{{ end -}}
{{- end -}}
{{- if $v.dynamo.istio.enabled -}}
{{- with $v.dynamo.istio.gateway }}{{ $_ := set $ingress "virtualServiceGateway" . }}{{ end -}}
{{- end -}}
{{- with $v.dynamo.ingressHostSuffix }}{{ $_ := set $ingress "hostSuffix" . }}{{ end -}}
{{- $rbac := dict -}}
{{- with (include "dynamo-operator.plannerClusterRole" .) }}{{ $_ := set $rbac "plannerClusterRoleName" . }}{{ end -}}
{{- with (include "dynamo-operator.eppClusterRole" .) }}{{ $_ := set $rbac "eppClusterRoleName" . }}{{ end -}}
{{- $plugins := dict
      "allowBuiltinOverride" $v.plugins.allowBuiltinOverride
      "renderThreads" $v.plugins.renderThreads
      "cacheDir" $v.plugins.cacheDir
      "grants" ($v.plugins.grants | default dict) -}}
{{- with $v.plugins.limits }}{{ $_ := set $plugins "limits" . }}{{ end -}}
{{- $config := dict
      "apiVersion" "operator.config.dynamo.nvidia.com/v1alpha1"
      "kind" "OperatorConfiguration"
      "server" $server
      "leaderElection" $leader
      "namespace" (dict "restricted" $restricted "scope" (dict "leaseDuration" $v.namespaceRestriction.lease.duration "leaseRenewInterval" $v.namespaceRestriction.lease.renewInterval))
      "infrastructure" $infra
      "discovery" (dict "backend" $v.discoveryBackend)
      "mpi" (dict "sshSecretName" $v.dynamo.mpiRun.secretName "sshSecretNamespace" .Release.Namespace)
      "orchestrators" (dict "grove" $grove "lws" $lws "kaiScheduler" $kai)
      "ingress" $ingress
      "rbac" $rbac
      "plugins" $plugins
      "checkpoint" (dict "enabled" $v.checkpoint.enabled)
      "gpu" (dict "discoveryEnabled" $v.gpuDiscovery.enabled)
      "logging" (dict "level" $v.logging.level "format" $v.logging.format)
      "security" (dict "enableHTTP2" $v.security.enableHTTP2) -}}
{{- toYaml $config -}}
{{- end -}}

{{/*
Rules for the namespaced objects the operator reads and writes, shared by the ClusterRole
(cluster-wide mode) and the Role in the target namespace (restricted mode). Every verb is one the
operator's code uses (host/controllers: watch caches list and watch; server-side apply is a patch
that may create; pruning deletes; create-once objects are created), or one it must hold to grant
it to graph pods in their discovery Role (the API server refuses to let it create a Role granting
more than it holds).
*/}}
{{- define "dynamo-operator.namespacedRules" -}}
# Graph children it server-side applies, watches and prunes.
- apiGroups: [""]
  resources: [services, configmaps, serviceaccounts]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [networking.k8s.io]
  resources: [ingresses]
  verbs: [get, list, watch, create, patch, delete]
# Discovery ServiceAccount Role and RoleBinding of each graph; shared planner/EPP RoleBindings.
- apiGroups: [rbac.authorization.k8s.io]
  resources: [roles, rolebindings]
  verbs: [get, list, watch, create, patch, delete]
# PVCs a graph asks for: created once, never changed or deleted (they hold the user's data).
- apiGroups: [""]
  resources: [persistentvolumeclaims]
  verbs: [get, list, watch, create]
# SSH key-pair Secrets of MPI launches: created once, never changed (the cache lists the ones it
# made, by label; RBAC cannot narrow a list by label).
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch, create]
# Pod readiness for graph status. Endpoints and EndpointSlices only because the discovery Role
# grants them to graph pods.
- apiGroups: [""]
  resources: [pods, endpoints]
  verbs: [get, list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [get, list, watch]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
# Its own API: graphs (finalizer, annotations and adapter replicas are merge-patched), components,
# scaling adapters (created once), and their status.
- apiGroups: [nvidia.com]
  resources: [dynamographdeployments]
  verbs: [get, list, watch, patch]
- apiGroups: [nvidia.com]
  resources: [dynamocomponentdeployments]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [nvidia.com]
  resources: [dynamographdeploymentscalingadapters]
  verbs: [get, list, watch, create, delete]
# Requests and checkpoints are not acted on yet: each object gets a Ready=False condition
# saying so (server-side apply of the status).
- apiGroups: [nvidia.com]
  resources: [dynamographdeploymentrequests, dynamocheckpoints]
  verbs: [get, list, watch]
# Status of the kinds above. The storage-version migration (cluster-wide mode) also rewrites every
# graph, component, adapter and request through an empty patch of its status.
- apiGroups: [nvidia.com]
  resources:
    - dynamographdeployments/status
    - dynamocomponentdeployments/status
    - dynamographdeploymentscalingadapters/status
    - dynamographdeploymentrequests/status
    - dynamocheckpoints/status
  verbs: [patch]
# Children carry blockOwnerDeletion owner references to graphs and components, which clusters
# with the OwnerReferencesPermissionEnforcement admission plugin only allow with this.
- apiGroups: [nvidia.com]
  resources: [dynamographdeployments/finalizers, dynamocomponentdeployments/finalizers]
  verbs: [update]
# Only because the discovery Role grants it to graph pods.
- apiGroups: [nvidia.com]
  resources: [dynamoworkermetadatas]
  verbs: [get, list, watch, create, update, patch, delete]
# Multi-node orchestrators (optional APIs, watched once the cluster serves them).
- apiGroups: [leaderworkerset.x-k8s.io]
  resources: [leaderworkersets]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [scheduling.volcano.sh]
  resources: [podgroups]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [grove.io]
  resources: [podcliquesets]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [grove.io]
  resources: [podcliques, podcliquescalinggroups]
  verbs: [get, list, watch, patch]
# Kinds it applies without watching (read before each apply; removed by garbage collection).
- apiGroups: [networking.istio.io]
  resources: [virtualservices]
  verbs: [get, create, patch]
- apiGroups: [inference.networking.k8s.io]
  resources: [inferencepools]
  verbs: [get, create, patch]
- apiGroups: [resource.k8s.io]
  resources: [resourceclaimtemplates]
  verbs: [get, create]
{{- $bindable := list -}}
{{- with (include "dynamo-operator.plannerClusterRole" .) }}{{ $bindable = append $bindable . }}{{ end -}}
{{- with (include "dynamo-operator.eppClusterRole" .) }}{{ $bindable = append $bindable . }}{{ end -}}
{{- if $bindable }}
# RoleBindings of planner-serviceaccount and epp-serviceaccount to these ClusterRoles (bind, not
# holding their permissions).
- apiGroups: [rbac.authorization.k8s.io]
  resources: [clusterroles]
  verbs: [bind]
  resourceNames: {{ toJson $bindable }}
{{- end }}
{{- end -}}
