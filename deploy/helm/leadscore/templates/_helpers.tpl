{{/* The chart's name. */}}
{{- define "leadscore.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name; at most 52 characters so that the CronJob's name fits. */}}
{{- define "leadscore.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 44 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 44 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 44 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "leadscore.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object; each adds its app.kubernetes.io/component. */}}
{{- define "leadscore.labels" -}}
helm.sh/chart: {{ include "leadscore.chart" . }}
{{ include "leadscore.instanceLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "leadscore.instanceLabels" -}}
app.kubernetes.io/name: {{ include "leadscore.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of the serving pods; the Services, the PDB and the spread select on them, so no other pod may carry them all. */}}
{{- define "leadscore.selectorLabels" -}}
{{ include "leadscore.instanceLabels" . }}
app.kubernetes.io/component: serve
{{- end }}

{{- define "leadscore.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "leadscore.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "leadscore.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The environment of every container that reads the store: the store URL (as $(MODEL_STORE_URL) in args). */}}
{{- define "leadscore.storeEnv" -}}
- name: MODEL_STORE_URL
  valueFrom:
    configMapKeyRef:
      name: {{ include "leadscore.fullname" . }}
      key: store-url
{{- with .Values.store.env }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "leadscore.storeEnvFrom" -}}
{{- if .Values.store.credentialsSecret -}}
envFrom:
  - secretRef:
      name: {{ .Values.store.credentialsSecret }}
{{- end }}
{{- end }}

{{/* Non-root, read-only root filesystem, no capabilities: the same for every leadscore container. */}}
{{- define "leadscore.containerSecurityContext" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  runAsNonRoot: true
  capabilities:
    drop:
      - ALL
{{- end }}

{{- define "leadscore.podSecurityContext" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 65532
  runAsGroup: 65532
  fsGroup: 65532
  seccompProfile:
    type: RuntimeDefault
{{- end }}
