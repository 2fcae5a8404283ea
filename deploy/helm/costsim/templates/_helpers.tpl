{{/* Chart name, truncated to a DNS label. */}}
{{- define "costsim.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name prefix: "costsim" for release "costsim", else "<release>-costsim". */}}
{{- define "costsim.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "costsim.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every resource. */}}
{{- define "costsim.labels" -}}
helm.sh/chart: {{ include "costsim.chart" . }}
app.kubernetes.io/name: {{ include "costsim.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: costsim
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: include with (dict "ctx" $ "component" "api"). */}}
{{- define "costsim.selectorLabels" -}}
app.kubernetes.io/name: {{ include "costsim.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "costsim.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "costsim.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "costsim.configMapName" -}}
{{- printf "%s-config" (include "costsim.fullname" .) -}}
{{- end -}}

{{- define "costsim.userCodeName" -}}
{{- printf "%s-user-code" (include "costsim.fullname" .) -}}
{{- end -}}

{{- define "costsim.apiName" -}}
{{- printf "%s-api" (include "costsim.fullname" .) -}}
{{- end -}}

{{/* image reference: repository@digest, else repository:tag (tag defaults to appVersion). */}}
{{- define "costsim.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Path of the API-key file inside the API container. */}}
{{- define "costsim.apiKeysFile" -}}
{{- printf "%s/%s" (trimSuffix "/" .Values.secrets.apiKeys.mountPath) .Values.secrets.apiKeys.key -}}
{{- end -}}

{{- define "costsim.tenantsFile" -}}
/etc/costsim/config/tenants.yaml
{{- end -}}

{{/* Secret environment variables: env name -> values.secrets entry. */}}
{{- define "costsim.secretEnv" -}}
{{- $refs := list
  (list "COSTSIM_DATABASE_URL" .Values.secrets.databaseUrl)
  (list "COSTSIM_ANONYMIZATION_SALT" .Values.secrets.anonymizationSalt)
  (list "COSTSIM_SIGNING_KEYS" .Values.secrets.signingKeys)
  (list "COSTSIM_SLACK_WEBHOOK_URL" .Values.secrets.slackWebhookUrl)
  (list "COSTSIM_SANDBOX_DATABASE_URL" .Values.secrets.sandboxDatabaseUrl) -}}
{{- range $refs }}
{{- $ref := index . 1 }}
- name: {{ index . 0 }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.name | quote }}
      key: {{ $ref.key | quote }}
      optional: {{ $ref.optional | default false }}
{{- end }}
{{- end -}}

{{/* Environment of every CostSim container: the ConfigMap plus secrets by reference. */}}
{{- define "costsim.envFrom" -}}
- configMapRef:
    name: {{ include "costsim.configMapName" . }}
{{- end -}}

{{- define "costsim.env" -}}
- name: DAGSTER_HOME
  value: {{ .Values.dagsterHome | quote }}
{{- include "costsim.secretEnv" . }}
{{- if .Values.dagsterInstance.postgresqlSecretName }}
- name: DAGSTER_PG_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.dagsterInstance.postgresqlSecretName | quote }}
      key: {{ .Values.dagsterInstance.postgresqlSecretKey | quote }}
{{- end }}
{{- end -}}

{{/* Writable volumes shared by every pod (root filesystem is read-only). */}}
{{- define "costsim.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.scratchSizeLimit }}
- name: dagster-home
  emptyDir:
    sizeLimit: {{ .Values.scratchSizeLimit }}
- name: artifacts
{{- if .Values.artifacts.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .Values.artifacts.existingClaim }}
{{- else }}
  emptyDir:
    sizeLimit: {{ .Values.artifacts.emptyDirSizeLimit }}
{{- end }}
- name: config
  configMap:
    name: {{ include "costsim.configMapName" . }}
    items:
      - key: tenants.yaml
        path: tenants.yaml
{{- if .Values.dagsterInstance.configMapName }}
- name: dagster-instance
  configMap:
    name: {{ .Values.dagsterInstance.configMapName }}
{{- end }}
{{- end -}}

{{- define "costsim.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: dagster-home
  mountPath: {{ .Values.dagsterHome }}
- name: artifacts
  mountPath: {{ .Values.config.artifactRoot }}
- name: config
  mountPath: /etc/costsim/config
  readOnly: true
{{- if .Values.dagsterInstance.configMapName }}
- name: dagster-instance
  mountPath: {{ printf "%s/dagster.yaml" (trimSuffix "/" .Values.dagsterHome) }}
  subPath: dagster.yaml
  readOnly: true
{{- end }}
{{- end -}}

{{/* Pod-level settings shared by the Deployments. */}}
{{- define "costsim.podSpecCommon" -}}
serviceAccountName: {{ include "costsim.serviceAccountName" . }}
automountServiceAccountToken: {{ .Values.serviceAccount.automountToken }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}
