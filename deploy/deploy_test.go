// Package deploy holds the deployment files (Dockerfile at the repository
// root, docker-compose, Kubernetes manifests, a systemd unit); its tests
// check them against each other, against the config schema and against
// what make dist builds.
package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/apilayer/apilayer/config"
)

// dockerfile is the Dockerfile, one instruction per entry (continuation
// lines joined, comments dropped).
type dockerfile []instruction

type instruction struct {
	cmd  string // upper case: FROM, COPY...
	args string
}

func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var out dockerfile
	var cur strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

// all returns the arguments of every instruction cmd.
func (d dockerfile) all(cmd string) []string {
	var out []string
	for _, in := range d {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

// one returns the arguments of the only instruction cmd.
func (d dockerfile) one(t *testing.T, cmd string) string {
	t.Helper()
	a := d.all(cmd)
	if len(a) != 1 {
		t.Fatalf("Dockerfile: %d %s instructions, want 1", len(a), cmd)
	}
	return a[0]
}

// execForm decodes an exec-form argument list: ["a", "b"].
func execForm(t *testing.T, what, s string) []string {
	t.Helper()
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatalf("Dockerfile: %s %s is not in exec form: %v", what, s, err)
	}
	return out
}

// image is what the Dockerfile says about the image.
type image struct {
	binary     string // the path of the apilayer binary in the image
	source     string // the COPY source, with ${TARGETARCH}
	configPath string // APILAYER_CONFIG
	uid        int
}

func readImage(t *testing.T) image {
	t.Helper()
	d := readDockerfile(t)
	from := d.one(t, "FROM")
	if from != "gcr.io/distroless/static-debian12:nonroot" && from != "scratch" {
		t.Errorf("Dockerfile: FROM %s, want distroless static (nonroot) or scratch", from)
	}
	copyArgs := strings.Fields(d.one(t, "COPY"))
	if len(copyArgs) != 2 {
		t.Fatalf("Dockerfile: COPY %v, want one source and one destination", copyArgs)
	}
	img := image{source: copyArgs[0], binary: copyArgs[1]}
	if !slices.Contains(d.all("ARG"), "TARGETARCH") {
		t.Errorf("Dockerfile: no ARG TARGETARCH, which picks the binary of the platform")
	}
	env := d.one(t, "ENV")
	name, val, _ := strings.Cut(env, "=")
	if name != "APILAYER_CONFIG" || !filepath.IsAbs(val) {
		t.Errorf("Dockerfile: ENV %s, want APILAYER_CONFIG=/an/absolute/path", env)
	}
	img.configPath = val

	user := d.one(t, "USER")
	uid, gid, _ := strings.Cut(user, ":")
	n, err := strconv.Atoi(uid)
	if err != nil || n == 0 || gid == "0" {
		t.Errorf("Dockerfile: USER %s, want a numeric non-root user and group (Kubernetes runAsNonRoot checks a number)", user)
	}
	img.uid = n

	entry := execForm(t, "ENTRYPOINT", d.one(t, "ENTRYPOINT"))
	if !slices.Equal(entry, []string{img.binary}) {
		t.Errorf("Dockerfile: ENTRYPOINT %v, want [%s]", entry, img.binary)
	}
	if cmd := execForm(t, "CMD", d.one(t, "CMD")); !slices.Equal(cmd, []string{"serve"}) {
		t.Errorf("Dockerfile: CMD %v, want [serve]", cmd)
	}
	hc := d.one(t, "HEALTHCHECK")
	i := strings.Index(hc, "CMD ")
	if i < 0 {
		t.Fatalf("Dockerfile: HEALTHCHECK %s has no CMD", hc)
	}
	hcCmd := execForm(t, "HEALTHCHECK CMD", hc[i+4:])
	if len(hcCmd) < 2 || hcCmd[0] != img.binary || hcCmd[1] != "healthcheck" {
		t.Errorf("Dockerfile: HEALTHCHECK CMD %v, want [%s healthcheck ...]", hcCmd, img.binary)
	}
	for _, opt := range []string{"--interval=", "--timeout="} {
		if !strings.Contains(hc[:i], opt) {
			t.Errorf("Dockerfile: HEALTHCHECK lacks %s", opt)
		}
	}
	return img
}

// distOutputs runs make -n dist and returns the binaries it writes, by
// GOOS/GOARCH, and the commands it prints.
func distOutputs(t *testing.T) (bins map[string]string, commands string) {
	t.Helper()
	cmd := exec.Command("make", "-n", "--no-print-directory", "dist", "VERSION=v9.9.9-dry", "REVISION=0123abcd")
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n dist: %v\n%s", err, out)
	}
	commands = string(out)
	// The loop's template: dir=dist/${os}_${arch}; ... -o $dir/apilayer.
	dir := regexp.MustCompile(`\bdir=([^;\s]+);`).FindStringSubmatch(commands)
	bin := regexp.MustCompile(`-o (\S+) \./cmd/apilayer`).FindStringSubmatch(commands)
	if dir == nil || bin == nil {
		t.Fatalf("make -n dist: no dir=... or -o ... ./cmd/apilayer:\n%s", commands)
	}
	bins = map[string]string{}
	for _, p := range []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64"} {
		goos, goarch, _ := strings.Cut(p, "/")
		d := strings.NewReplacer("${os}", goos, "${arch}", goarch).Replace(dir[1])
		bins[p] = strings.ReplaceAll(bin[1], "$dir", d)
	}
	return bins, commands
}

// TestMakeDist checks, from a dry run, that make dist builds static
// binaries for each platform with the version in them, archives them with
// LICENSE and README.md, packs the JS packages and writes SHA256SUMS.
func TestMakeDist(t *testing.T) {
	bins, cmds := distOutputs(t)
	if !strings.Contains(cmds, "for p in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64;") {
		t.Errorf("make dist does not loop over the four platforms:\n%s", cmds)
	}
	for _, want := range []string{
		`CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -buildvcs=auto`,
		`-X github.com/apilayer/apilayer/internal/version.version=v9.9.9-dry`,
		`-X github.com/apilayer/apilayer/internal/version.revision=0123abcd`,
		`dir=dist/${os}_${arch}`,
		`-o $dir/apilayer ./cmd/apilayer`,
		`name=apilayer_v9.9.9-dry_${os}_${arch}`,
		`apilayer LICENSE README.md | gzip -9n > dist/$name.tar.gz`,
		`for pkg in clients/*/package.json`,
		`npm pack --loglevel=warn --pack-destination`,
		`sha256sum *.tar.gz`,
		`> SHA256SUMS`,
	} {
		if !strings.Contains(cmds, want) {
			t.Errorf("make -n dist lacks %q:\n%s", want, cmds)
		}
	}
	for p, bin := range bins {
		goos, goarch, _ := strings.Cut(p, "/")
		if want := "dist/" + goos + "_" + goarch + "/apilayer"; bin != want {
			t.Errorf("%s: make dist writes %s, want %s", p, bin, want)
		}
	}
	for _, f := range []string{"../LICENSE", "../README.md", "../CHANGELOG.md"} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%v", err)
		}
	}
	if b, err := os.ReadFile("../.gitignore"); err != nil || !regexp.MustCompile(`(?m)^/dist/$`).Match(b) {
		t.Errorf(".gitignore does not ignore /dist/ (%v)", err)
	}
}

// TestDockerfile checks the Dockerfile against make dist: it copies the
// linux binary make dist builds for the target platform, runs it as a
// non-root user, and its health check is "apilayer healthcheck".
func TestDockerfile(t *testing.T) {
	img := readImage(t)
	bins, _ := distOutputs(t)
	for _, arch := range []string{"amd64", "arm64"} {
		src := strings.ReplaceAll(img.source, "${TARGETARCH}", arch)
		if src != bins["linux/"+arch] {
			t.Errorf("Dockerfile copies %s for %s, make dist writes %s", src, arch, bins["linux/"+arch])
		}
	}
	if img.uid != 65532 {
		t.Errorf("Dockerfile: user %d, want 65532, the nonroot user of distroless", img.uid)
	}
	// .dockerignore keeps the build context to the binaries, and lets them in.
	b, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	if !slices.Contains(lines, "*") {
		t.Errorf(".dockerignore does not start from an empty context (*)")
	}
	for _, arch := range []string{"amd64", "arm64"} {
		if !slices.Contains(lines, "!"+bins["linux/"+arch]) {
			t.Errorf(".dockerignore does not let %s in", bins["linux/"+arch])
		}
	}
}

// resolve checks a gateway config the way "apilayer check" does, with env
// set, and returns it resolved.
func resolve(t *testing.T, name string, data []byte, env map[string]string) *config.Config {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	path := filepath.Join(t.TempDir(), filepath.Base(name))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := config.Check(path, &stdout, &stderr); code != 0 || stderr.Len() > 0 {
		t.Fatalf("apilayer check %s: exit %d, stderr:\n%s", name, code, stderr.String())
	}
	c, err := config.Resolve(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// envRefs returns the variables the config reads without a default.
func envRefs(data []byte) []string {
	var out []string
	for _, m := range regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`).FindAllSubmatch(data, -1) {
		if !slices.Contains(out, string(m[1])) {
			out = append(out, string(m[1]))
		}
	}
	return out
}

func listenPort(t *testing.T, c *config.Config) int {
	t.Helper()
	return addrPort(t, c.Listen)
}

// addrPort is the port of a listen address.
func addrPort(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	n, err2 := strconv.Atoi(p)
	if err != nil || err2 != nil {
		t.Fatalf("%q has no port", addr)
	}
	return n
}

// hostPort returns the host and port of a URL, with the scheme's default.
func hostPort(t *testing.T, raw string) (string, int) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	p := u.Port()
	if p == "" {
		p = map[string]string{"http": "80", "https": "443", "redis": "6379"}[u.Scheme]
	}
	n, _ := strconv.Atoi(p)
	return u.Hostname(), n
}

// node is a decoded YAML value with helpers to walk it.
type node struct{ v any }

func (n node) get(path ...any) node {
	cur := n.v
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := cur.(map[string]any)
			cur = m[k]
		case int:
			s, _ := cur.([]any)
			if k >= len(s) {
				return node{}
			}
			cur = s[k]
		}
	}
	return node{cur}
}

func (n node) str() string { s, _ := n.v.(string); return s }
func (n node) num() int    { i, _ := n.v.(int); return i }
func (n node) list() []node {
	s, _ := n.v.([]any)
	out := make([]node, len(s))
	for i, v := range s {
		out[i] = node{v}
	}
	return out
}

// readYAMLDocs decodes every document of a YAML file.
func readYAMLDocs(t *testing.T, path string) []node {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(bufio.NewReader(f))
	var out []node
	for {
		var v map[string]any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if v != nil {
			out = append(out, node{v})
		}
	}
}

// TestKubernetes parses every manifest and checks them against each other,
// the Dockerfile and the config in the ConfigMap.
func TestKubernetes(t *testing.T) {
	img := readImage(t)
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	objects := map[string]node{} // Kind/name
	var kustomization node
	for _, f := range files {
		for _, doc := range readYAMLDocs(t, f) {
			kind, name := doc.get("kind").str(), doc.get("metadata", "name").str()
			if kind == "Kustomization" {
				kustomization = doc
				continue
			}
			if doc.get("apiVersion").str() == "" || kind == "" || name == "" {
				t.Errorf("%s: a document without apiVersion, kind or metadata.name", f)
				continue
			}
			if _, dup := objects[kind+"/"+name]; dup {
				t.Errorf("%s: %s/%s defined twice", f, kind, name)
			}
			objects[kind+"/"+name] = doc
		}
	}
	must := func(key string) node {
		t.Helper()
		n, ok := objects[key]
		if !ok {
			t.Fatalf("no %s in deploy/kubernetes", key)
		}
		return n
	}
	// kustomization.yaml lists every file.
	var listed []string
	for _, r := range kustomization.get("resources").list() {
		listed = append(listed, "kubernetes/"+r.str())
	}
	for _, f := range files {
		if filepath.Base(f) != "kustomization.yaml" && !slices.Contains(listed, f) {
			t.Errorf("kustomization.yaml does not list %s", f)
		}
	}

	dep := must("Deployment/apilayer")
	cm := must("ConfigMap/apilayer-config")
	svc := must("Service/apilayer")
	pdb := must("PodDisruptionBudget/apilayer")
	hpa := must("HorizontalPodAutoscaler/apilayer")
	redisDep := must("Deployment/apilayer-redis")
	redisSvc := must("Service/apilayer-redis")

	// The config passes apilayer check, with the Secret's variable set.
	raw := []byte(cm.get("data", "apilayer.yaml").str())
	cfg := resolve(t, "configmap-apilayer.yaml", raw, map[string]string{"APILAYER_CSRF_SECRET": "k8s-test-secret"})

	pod := dep.get("spec", "template", "spec")
	c := pod.get("containers", 0)
	if got := c.get("image").str(); got != "apilayer" {
		t.Errorf("container image %q, want apilayer (set by kustomization.yaml)", got)
	}
	if kustomization.get("images", 0, "name").str() != "apilayer" {
		t.Errorf("kustomization.yaml does not set the image apilayer")
	}

	// Ports: the container ports are the config's listen and admin.listen
	// ports.
	ports := map[int]string{} // container port => name
	for _, p := range c.get("ports").list() {
		ports[p.get("containerPort").num()] = p.get("name").str()
	}
	portName, ok := ports[listenPort(t, cfg)]
	if !ok {
		t.Errorf("no containerPort for listen %s (ports %v)", cfg.Listen, ports)
	}
	if cfg.Admin.Listen == "" {
		t.Fatal("admin.listen is not set: the probes need the admin listener")
	}
	adminPort := addrPort(t, cfg.Admin.Listen)
	adminName, ok := ports[adminPort]
	if !ok {
		t.Errorf("no containerPort for admin.listen %s (ports %v)", cfg.Admin.Listen, ports)
	}
	if host, _, _ := net.SplitHostPort(cfg.Admin.Listen); host != "" && host != "0.0.0.0" {
		t.Errorf("admin.listen %s: the kubelet probes the pod's IP, so it must listen on every address", cfg.Admin.Listen)
	}

	// Probes: liveness /livez, readiness /readyz, on the admin listener
	// (plain HTTP whatever tls says).
	for probe, path := range map[string]string{"livenessProbe": "/livez", "readinessProbe": "/readyz"} {
		g := c.get(probe, "httpGet")
		if g.get("path").str() != path {
			t.Errorf("%s path %q, want %s", probe, g.get("path").str(), path)
		}
		if p := g.get("port").v; p != adminName && p != adminPort {
			t.Errorf("%s port %v, want %s or %d (admin.listen)", probe, p, adminName, adminPort)
		}
		if g.get("scheme").str() == "HTTPS" {
			t.Errorf("%s scheme HTTPS: the admin listener serves plain HTTP", probe)
		}
	}
	if !cfg.Metrics.Enabled {
		t.Error("metrics.enabled is false: the admin listener is there to serve them")
	}
	ann := dep.get("spec", "template", "metadata", "annotations")
	if ann.get("prometheus.io/port").str() != strconv.Itoa(adminPort) || ann.get("prometheus.io/path").str() != cfg.Metrics.Path {
		t.Errorf("prometheus annotations %v, want port %d and path %s", ann.v, adminPort, cfg.Metrics.Path)
	}

	// Config: the ConfigMap is mounted where APILAYER_CONFIG (the image's
	// and the container's) points.
	env := map[string]node{}
	for _, e := range c.get("env").list() {
		env[e.get("name").str()] = e
	}
	if got := env["APILAYER_CONFIG"].get("value").str(); got != "" && got != img.configPath {
		t.Errorf("APILAYER_CONFIG %q in the Deployment, %q in the image", got, img.configPath)
	}
	var mounted bool
	for _, m := range c.get("volumeMounts").list() {
		if m.get("mountPath").str()+"/apilayer.yaml" != img.configPath {
			continue
		}
		for _, v := range pod.get("volumes").list() {
			if v.get("name").str() == m.get("name").str() && v.get("configMap", "name").str() == "apilayer-config" {
				mounted = true
			}
		}
	}
	if !mounted {
		t.Errorf("ConfigMap apilayer-config is not mounted so that %s is its apilayer.yaml", img.configPath)
	}
	// Every ${VAR} of the config comes from the container's env.
	for _, v := range envRefs(raw) {
		if _, ok := env[v]; !ok {
			t.Errorf("the config reads ${%s}, which the container's env does not set", v)
		}
	}

	// Security: the image's user, not root, no privilege.
	sc := pod.get("securityContext")
	if sc.get("runAsNonRoot").v != true || sc.get("runAsUser").num() != img.uid {
		t.Errorf("pod securityContext %v, want runAsNonRoot and runAsUser %d", sc.v, img.uid)
	}
	csc := c.get("securityContext")
	if csc.get("allowPrivilegeEscalation").v != false || csc.get("readOnlyRootFilesystem").v != true {
		t.Errorf("container securityContext %v, want no privilege escalation and a read-only root", csc.v)
	}
	if grace := pod.get("terminationGracePeriodSeconds").num(); float64(grace) <= cfg.Server.ShutdownTimeout.Seconds() {
		t.Errorf("terminationGracePeriodSeconds %d is not above server.shutdownTimeout %s", grace, cfg.Server.ShutdownTimeout)
	}

	// Service, PDB and HPA select the Deployment's pods.
	labels := dep.get("spec", "template", "metadata", "labels").v.(map[string]any)
	matches := func(sel node) bool {
		m, ok := sel.v.(map[string]any)
		if !ok || len(m) == 0 {
			return false
		}
		for k, v := range m {
			if labels[k] != v {
				return false
			}
		}
		return true
	}
	if !matches(dep.get("spec", "selector", "matchLabels")) {
		t.Errorf("the Deployment's selector does not match its pods")
	}
	if !matches(svc.get("spec", "selector")) {
		t.Errorf("Service apilayer does not select the gateway's pods")
	}
	if tp := svc.get("spec", "ports", 0, "targetPort").v; tp != portName && tp != listenPort(t, cfg) {
		t.Errorf("Service targetPort %v, want %s", tp, portName)
	}
	for _, p := range svc.get("spec", "ports").list() {
		if tp := p.get("targetPort").v; tp == adminName || tp == adminPort {
			t.Errorf("Service apilayer publishes the admin listener (port %v): probes and metrics are for the cluster's own eyes", tp)
		}
	}
	if !matches(pdb.get("spec", "selector", "matchLabels")) {
		t.Errorf("the PodDisruptionBudget does not select the gateway's pods")
	}
	ref := hpa.get("spec", "scaleTargetRef")
	if ref.get("kind").str() != "Deployment" || ref.get("name").str() != "apilayer" {
		t.Errorf("the HPA scales %v, want Deployment apilayer", ref.v)
	}
	if hpa.get("spec", "minReplicas").num() < 2 || pdb.get("spec", "minAvailable").num() >= hpa.get("spec", "minReplicas").num() {
		t.Errorf("minReplicas %d and minAvailable %d leave no room for a drain", hpa.get("spec", "minReplicas").num(), pdb.get("spec", "minAvailable").num())
	}
	if c.get("resources", "requests", "cpu").str() == "" {
		t.Errorf("no CPU request: the HPA's utilization target needs one")
	}

	// Redis: store.redis.url names its Service and port.
	if cfg.Store.Driver != "redis" {
		t.Fatalf("store.driver %q, want redis (distributed mode)", cfg.Store.Driver)
	}
	host, rport := hostPort(t, cfg.Store.Redis.URL)
	if host != "apilayer-redis" || redisSvc.get("spec", "ports", 0, "port").num() != rport {
		t.Errorf("store.redis.url %s does not name Service apilayer-redis port %d", cfg.Store.Redis.URL, redisSvc.get("spec", "ports", 0, "port").num())
	}
	rlabels := redisDep.get("spec", "template", "metadata", "labels").v.(map[string]any)
	for k, v := range redisSvc.get("spec", "selector").v.(map[string]any) {
		if rlabels[k] != v {
			t.Errorf("Service apilayer-redis does not select the Redis pods")
		}
	}
}

// TestCompose checks deploy/docker-compose.yml: its gateway config passes
// apilayer check and is mounted where the image reads it, the published
// port is the config's listen port, and the services the config names
// exist.
func TestCompose(t *testing.T) {
	img := readImage(t)
	docs := readYAMLDocs(t, "docker-compose.yml")
	if len(docs) != 1 {
		t.Fatalf("docker-compose.yml: %d documents", len(docs))
	}
	services := docs[0].get("services")
	gw := services.get("gateway")
	if gw.v == nil {
		t.Fatal("no gateway service")
	}
	if ctx := gw.get("build", "context").str(); filepath.Clean(filepath.Join(".", ctx)) != ".." {
		t.Errorf("the gateway builds from %q, want the repository root (..), where the Dockerfile is", ctx)
	}

	var cfgFile string
	for _, v := range gw.get("volumes").list() {
		src, rest, _ := strings.Cut(v.str(), ":")
		dst, _, _ := strings.Cut(rest, ":")
		if dst == img.configPath {
			cfgFile = src
		}
	}
	if cfgFile == "" {
		t.Fatalf("no volume of the gateway is mounted at %s (APILAYER_CONFIG of the image)", img.configPath)
	}
	raw, err := os.ReadFile(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := resolve(t, cfgFile, raw, map[string]string{"APILAYER_CSRF_SECRET": "compose-test-secret"})

	env := gw.get("environment").v.(map[string]any)
	for _, v := range envRefs(raw) {
		if _, ok := env[v]; !ok {
			t.Errorf("%s reads ${%s}, which the gateway's environment does not set", cfgFile, v)
		}
	}
	var published bool
	for _, p := range gw.get("ports").list() {
		parts := strings.Split(p.str(), ":")
		if parts[len(parts)-1] == strconv.Itoa(listenPort(t, cfg)) {
			published = true
		}
	}
	if !published {
		t.Errorf("the gateway does not publish its listen port %s", cfg.Listen)
	}
	// The admin listener, when published, only to the host's loopback.
	if cfg.Admin.Listen != "" {
		adminPort := strconv.Itoa(addrPort(t, cfg.Admin.Listen))
		for _, p := range gw.get("ports").list() {
			parts := strings.Split(p.str(), ":")
			if parts[len(parts)-1] == adminPort && (len(parts) != 3 || parts[0] != "127.0.0.1") {
				t.Errorf("the gateway publishes the admin listener as %q: want 127.0.0.1:%s:%s", p.str(), adminPort, adminPort)
			}
		}
	}
	for _, u := range []string{cfg.Backend.URL, cfg.Upstream.URL, cfg.Store.Redis.URL} {
		host, port := hostPort(t, u)
		s := services.get(host)
		if s.v == nil {
			t.Errorf("%s names the service %s, which docker-compose.yml lacks", u, host)
			continue
		}
		if host == "redis" {
			continue // the image's default port
		}
		if exp := s.get("expose").list(); len(exp) == 0 || exp[0].str() != strconv.Itoa(port) {
			t.Errorf("service %s exposes %v, the config calls port %d", host, s.get("expose").v, port)
		}
	}
	if g, err := time.ParseDuration(gw.get("stop_grace_period").str()); err != nil || g <= cfg.Server.ShutdownTimeout {
		t.Errorf("the gateway's stop_grace_period %q is not above server.shutdownTimeout %s", gw.get("stop_grace_period").str(), cfg.Server.ShutdownTimeout)
	}
}

// TestSystemdUnit checks deploy/systemd/apilayer.service: it serves the
// config under /etc/apilayer, stops after server.shutdownTimeout, runs
// hardened, and reloads with SIGHUP.
func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile("systemd/apilayer.service")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][]string{}
	section := ""
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Errorf("apilayer.service: %q is not key=value", line)
			}
			keys[section+"."+k] = append(keys[section+"."+k], v)
		}
	}
	want := map[string]string{
		"Service.ExecStart":               "/usr/local/bin/apilayer serve --config /etc/apilayer/apilayer.yaml",
		"Service.KillSignal":              "SIGTERM",
		"Service.TimeoutStopSec":          "40s",
		"Service.DynamicUser":             "yes",
		"Service.NoNewPrivileges":         "yes",
		"Service.ProtectSystem":           "strict",
		"Service.ProtectHome":             "yes",
		"Service.PrivateTmp":              "yes",
		"Service.PrivateDevices":          "yes",
		"Service.ProtectKernelTunables":   "yes",
		"Service.ProtectControlGroups":    "yes",
		"Service.RestrictNamespaces":      "yes",
		"Service.SystemCallFilter":        "@system-service",
		"Service.CapabilityBoundingSet":   "",
		"Service.RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"Install.WantedBy":                "multi-user.target",
	}
	for k, v := range want {
		if got := keys[k]; len(got) != 1 || got[0] != v {
			t.Errorf("apilayer.service: %s = %q, want %q", k, got, v)
		}
	}
	// SIGHUP reloads the config (cmd/apilayer's TestServeReloadUnderLoad).
	if got := keys["Service.ExecReload"]; len(got) != 1 || got[0] != "/bin/kill -HUP $MAINPID" {
		t.Errorf("apilayer.service: ExecReload = %q, want /bin/kill -HUP $MAINPID", got)
	}
	// The same defaults as config: TimeoutStopSec is above shutdownTimeout.
	c := &config.Config{}
	c.Defaults()
	if c.Server.ShutdownTimeout.Seconds() >= 40 {
		t.Errorf("server.shutdownTimeout %s is not below TimeoutStopSec 40s", c.Server.ShutdownTimeout)
	}
}
