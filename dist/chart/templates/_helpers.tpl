{{- define "probe-tuner.name" -}}probe-tuner{{- end }}
{{- define "probe-tuner.labels" -}}
app.kubernetes.io/name: probe-tuner
app.kubernetes.io/part-of: probe-tuner
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}
{{- define "probe-tuner.selector" -}}
app.kubernetes.io/name: probe-tuner
app.kubernetes.io/component: manager
{{- end }}
