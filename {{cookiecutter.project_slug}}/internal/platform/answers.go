{% set c = cookiecutter %}
package platform
{% if c.app_kind == "http" %}

import "time"
{% endif %}

// The template's answers this package needs, written when the service is made and
// on each update (`copier update --data ...` changes them here).
const (
	// Name is the service's slug: the binary's name, in -version and the logs.
	Name = "{{ c.project_slug }}"
{% if c.app_kind == "http" %}
	// DefaultPort is where the server listens when PORT is unset.
	DefaultPort = "{{ c.http_port }}"
	// Long enough for an orchestrator to stop routing here after SIGTERM
	// (Kubernetes: endpoint removal reaching kube-proxy and the ingress).
	DefaultShutdownDelay = {{ drain_seconds("delay") }} * time.Second
	// In-flight requests get this long to finish once the server stops accepting.
	// Delay plus timeout stays below Kubernetes' default grace period, 30 s.
	DefaultShutdownTimeout = {{ drain_seconds("timeout") }} * time.Second
{% endif %}
)
