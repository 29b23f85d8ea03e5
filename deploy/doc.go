// Package deploy holds quill's deployment recipes, which
// docs/deployment.md explains: a sandboxed systemd unit (quill.service,
// the drop-in quill-https.conf, and quill-admin for the administration
// commands), a Caddy reverse proxy in front of quill (Caddyfile), and a
// container image FROM scratch (Containerfile, built by build-image.sh).
// It has no Go code of its own: its tests check each recipe with the
// tool that uses it and the real quill binary.
package deploy
