{{/*
Helpers of the pcw-mesh chart. Those that take a dict expect "root" (the chart's top context, $)
and "component" (chunker, encoder or generator).
*/}}

{{/* The chart's name, at most 63 characters. */}}
{{- define "pcw-mesh.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name, at most 40 characters so that component and Strimzi names stay valid. */}}
{{- define "pcw-mesh.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* A component's resource name: <fullname>-<component>. */}}
{{- define "pcw-mesh.componentName" -}}
{{- printf "%s-%s" (include "pcw-mesh.fullname" .root) .component }}
{{- end }}

{{/* The encoders' headless Service: gives each encoder pod the DNS name it advertises. */}}
{{- define "pcw-mesh.encoderHeadless" -}}
{{- printf "%s-encoder-headless" (include "pcw-mesh.fullname" .) }}
{{- end }}

{{- define "pcw-mesh.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "pcw-mesh.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pcw-mesh.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "pcw-mesh.labels" -}}
helm.sh/chart: {{ include "pcw-mesh.chart" .root }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: pcw-mesh
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{ include "pcw-mesh.selectorLabels" . }}
{{- end }}

{{- define "pcw-mesh.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "pcw-mesh.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image of a component: <registry>/<repository>/<component>:<tag>, the CUDA variant when "gpu" is true. */}}
{{- define "pcw-mesh.image" -}}
{{- $image := .root.Values.image }}
{{- $tag := default .root.Chart.AppVersion $image.tag }}
{{- if .gpu }}
{{- $tag = printf "%s%s" $tag $image.cudaTagSuffix }}
{{- end }}
{{- if $image.registry }}
{{- printf "%s/%s/%s:%s" $image.registry $image.repository .component $tag }}
{{- else }}
{{- printf "%s/%s:%s" $image.repository .component $tag }}
{{- end }}
{{- end }}

{{/* The Strimzi Kafka cluster's name (its bootstrap Service is <name>-kafka-bootstrap). */}}
{{- define "pcw-mesh.kafkaCluster" -}}
{{- include "pcw-mesh.fullname" . }}
{{- end }}

{{/* Kafka's bootstrap address: the Strimzi cluster's plain listener, or kafka.bootstrapServers. */}}
{{- define "pcw-mesh.kafkaBootstrap" -}}
{{- if .Values.kafka.strimzi.enabled }}
{{- $port := ternary 9093 9092 (contains "SSL" .Values.kafka.auth.securityProtocol) }}
{{- printf "%s-kafka-bootstrap.%s.svc:%v" (include "pcw-mesh.kafkaCluster" .) .Release.Namespace $port }}
{{- else }}
{{- required "kafka.bootstrapServers is required unless kafka.strimzi.enabled is true" .Values.kafka.bootstrapServers }}
{{- end }}
{{- end }}

{{/*
application.properties lines from a nested map: (list "pcw." $map) gives one "pcw.a.b=value" line per
leaf, keys in order. Whole numbers print as integers (YAML numbers reach templates as float64).
*/}}
{{- define "pcw-mesh.properties" -}}
{{- $prefix := index . 0 }}
{{- range $key, $value := index . 1 }}
{{- if kindIs "map" $value }}
{{- include "pcw-mesh.properties" (list (printf "%s%s." $prefix $key) $value) }}
{{- else if kindIs "float64" $value }}
{{ $prefix }}{{ $key }}={{ int64 $value }}
{{- else }}
{{ $prefix }}{{ $key }}={{ $value }}
{{- end }}
{{- end }}
{{- end }}

{{/*
A component's application.properties: the HTTP (and gRPC) port, Kafka, topic settings, then the
component's config values; for the encoder, the store's directory is its volume's mount path.
*/}}
{{- define "pcw-mesh.applicationProperties" -}}
{{- $values := index .root.Values .component }}
{{- $topics := .root.Values.topics }}
{{- $config := dict "topics" (dict "create" $topics.create "partitions" $topics.partitions "replication-factor" $topics.replicationFactor) }}
{{- $forced := dict }}
{{- if eq .component "encoder" }}
{{- $forced = dict "store" (dict "disk-dir" $values.persistence.mountPath) }}
{{- end }}
{{- $config = mergeOverwrite $config (deepCopy $values.config) $forced }}
# Rendered by the pcw-mesh chart. Read by Quarkus from the working directory's config/ (ordinal 260:
# over the application's own application.properties, under environment variables).
quarkus.http.port={{ $values.port }}
kafka.bootstrap.servers={{ include "pcw-mesh.kafkaBootstrap" .root }}
{{- include "pcw-mesh.properties" (list "pcw." $config) }}
{{- end }}

{{/* Environment every service container gets. */}}
{{- define "pcw-mesh.env" -}}
{{- $values := index .root.Values .component }}
- name: PCW_MODEL
  value: {{ printf "%s/%s" .root.Values.model.mountPath .root.Values.model.file | quote }}
- name: JAVA_HEAP_OPTS
  value: {{ $values.javaHeapOpts | quote }}
- name: JAVA_OPTS
  value: {{ $values.javaOpts | quote }}
{{- with .root.Values.tls }}
{{- if and .mtls (not .existingSecret) }}
{{- fail "tls.mtls needs tls.existingSecret (the certificates and the CA of mutual TLS)" }}
{{- end }}
{{- if .existingSecret }}
# TLS on the port (README "Security"): the tls profile, mtls for mutual TLS; the PEM files of the Secret.
- name: QUARKUS_PROFILE
  value: {{ ternary "prod,tls,mtls" "prod,tls" .mtls | quote }}
- name: PCW_TLS_CERT_FILE
  value: {{ printf "%s/tls.crt" .mountPath | quote }}
- name: PCW_TLS_KEY_FILE
  value: {{ printf "%s/tls.key" .mountPath | quote }}
- name: PCW_TLS_CA_FILE
  value: {{ printf "%s/ca.crt" .mountPath | quote }}
{{- end }}
{{- end }}
{{- with .root.Values.auth }}
{{- if .existingSecret }}
# API keys on every call but /q/*.
- name: PCW_SECURITY_ENABLED
  value: "true"
- name: PCW_SECURITY_API_KEYS_FILE
  value: {{ printf "%s/api-keys" .mountPath | quote }}
{{- end }}
{{- end }}
{{- if and (eq .component "generator") .root.Values.auth.existingSecret }}
# The generator's key to the encoders' FetchSegments.
- name: PCW_SECURITY_CLIENT_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ default .root.Values.auth.existingSecret .root.Values.auth.clientKey.existingSecret }}
      key: {{ .root.Values.auth.clientKey.key }}
{{- end }}
{{- with .root.Values.kafka.auth }}
{{- if .securityProtocol }}
# Kafka over TLS and/or SASL, for the SmallRye channels and every client the service creates.
- name: KAFKA_SECURITY_PROTOCOL
  value: {{ .securityProtocol | quote }}
{{- end }}
{{- if contains "SASL" .securityProtocol }}
{{- with .saslMechanism }}
- name: KAFKA_SASL_MECHANISM
  value: {{ . | quote }}
{{- end }}
- name: KAFKA_SASL_JAAS_CONFIG
  valueFrom:
    secretKeyRef:
      name: {{ required "kafka.auth.existingSecret is required when kafka.auth.securityProtocol is SASL_*" .existingSecret }}
      key: {{ .jaasConfigKey }}
{{- end }}
{{- if and (contains "SSL" .securityProtocol) .existingSecret }}
- name: KAFKA_SSL_TRUSTSTORE_TYPE
  value: PEM
- name: KAFKA_SSL_TRUSTSTORE_LOCATION
  value: {{ printf "%s/%s" .mountPath .caKey | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* The container port and the probes on the services' SmallRye Health endpoints. */}}
{{- define "pcw-mesh.portsAndProbes" -}}
{{- $values := index .root.Values .component }}
{{- $probes := .root.Values.probes }}
{{- $scheme := ternary "HTTPS" "HTTP" (not (empty .root.Values.tls.existingSecret)) }}
ports:
  - name: http
    containerPort: {{ $values.port }}
    protocol: TCP
startupProbe:
  httpGet:
    path: /q/health/started
    port: http
    scheme: {{ $scheme }}
  periodSeconds: {{ $probes.startup.periodSeconds }}
  failureThreshold: {{ $probes.startup.failureThreshold }}
livenessProbe:
  httpGet:
    path: /q/health/live
    port: http
    scheme: {{ $scheme }}
  periodSeconds: {{ $probes.liveness.periodSeconds }}
  timeoutSeconds: {{ $probes.liveness.timeoutSeconds }}
  failureThreshold: {{ $probes.liveness.failureThreshold }}
readinessProbe:
  httpGet:
    path: /q/health/ready
    port: http
    scheme: {{ $scheme }}
  periodSeconds: {{ $probes.readiness.periodSeconds }}
  timeoutSeconds: {{ $probes.readiness.timeoutSeconds }}
  failureThreshold: {{ $probes.readiness.failureThreshold }}
{{- end }}

{{/* Mounts every service container gets: the model, config/application.properties, /tmp, and the Secrets when named. */}}
{{- define "pcw-mesh.volumeMounts" -}}
{{- $root := .root }}
- name: model
  mountPath: {{ $root.Values.model.mountPath }}
  readOnly: true
- name: config
  mountPath: /app/config
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- if $root.Values.tls.existingSecret }}
- name: tls
  mountPath: {{ $root.Values.tls.mountPath }}
  readOnly: true
{{- end }}
{{- if $root.Values.auth.existingSecret }}
- name: auth
  mountPath: {{ $root.Values.auth.mountPath }}
  readOnly: true
{{- end }}
{{- if $root.Values.kafka.auth.existingSecret }}
- name: kafka-auth
  mountPath: {{ $root.Values.kafka.auth.mountPath }}
  readOnly: true
{{- end }}
{{- end }}

{{- define "pcw-mesh.volumes" -}}
{{- $root := .root }}
- name: model
  {{- toYaml $root.Values.model.volume | nindent 2 }}
- name: config
  configMap:
    name: {{ include "pcw-mesh.componentName" . }}
- name: tmp
  emptyDir: {}
{{- if $root.Values.tls.existingSecret }}
- name: tls
  secret:
    secretName: {{ $root.Values.tls.existingSecret }}
{{- end }}
{{- if $root.Values.auth.existingSecret }}
- name: auth
  secret:
    secretName: {{ $root.Values.auth.existingSecret }}
    # Only the keys file: the generator's own key (if in the same Secret) reaches it as an env variable.
    items:
      - key: api-keys
        path: api-keys
{{- end }}
{{- if $root.Values.kafka.auth.existingSecret }}
- name: kafka-auth
  secret:
    secretName: {{ $root.Values.kafka.auth.existingSecret }}
{{- end }}
{{- end }}

{{/* Pod annotations: the config's checksum (pods roll when it changes), scrape hints, the component's own. */}}
{{- define "pcw-mesh.podAnnotations" -}}
{{- $values := index .root.Values .component }}
checksum/config: {{ include "pcw-mesh.applicationProperties" . | sha256sum }}
{{- if .root.Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ $values.port | quote }}
prometheus.io/path: /q/metrics
{{- if .root.Values.tls.existingSecret }}
prometheus.io/scheme: https
{{- end }}
{{- end }}
{{- with $values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Resources, with the GPU limit added when the component's gpu.enabled. */}}
{{- define "pcw-mesh.resources" -}}
{{- $values := index .root.Values .component }}
{{- $resources := deepCopy $values.resources }}
{{- if and $values.gpu $values.gpu.enabled }}
{{- $limits := default (dict) $resources.limits }}
{{- $_ := set $limits $values.gpu.resourceName $values.gpu.count }}
{{- $_ = set $resources "limits" $limits }}
{{- end }}
{{- toYaml $resources }}
{{- end }}

{{/* Scheduling: the component's nodeSelector/tolerations/affinity, plus the GPU ones when gpu.enabled. */}}
{{- define "pcw-mesh.scheduling" -}}
{{- $values := index .root.Values .component }}
{{- $gpu := and $values.gpu $values.gpu.enabled }}
{{- $nodeSelector := deepCopy $values.nodeSelector }}
{{- $tolerations := $values.tolerations }}
{{- if $gpu }}
{{- $nodeSelector = mergeOverwrite $nodeSelector $values.gpu.nodeSelector }}
{{- $tolerations = concat $tolerations $values.gpu.tolerations }}
{{- end }}
{{- with $nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
