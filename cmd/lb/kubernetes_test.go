package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	"go.yaml.in/yaml/v3"

	"github.com/lbtrust/lb/config"
	"github.com/lbtrust/lb/internal/dnstest"
)

// k8sObject is the part of a Kubernetes manifest document the test reads;
// Spec is decoded per kind.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"` // ConfigMap
	Spec yaml.Node         `yaml:"spec"`
}

// k8sDeploymentSpec is the part of a Deployment's spec the test reads.
type k8sDeploymentSpec struct {
	Template struct {
		Spec struct {
			TerminationGracePeriodSeconds *int64         `yaml:"terminationGracePeriodSeconds"`
			Containers                    []k8sContainer `yaml:"containers"`
			Volumes                       []k8sVolume    `yaml:"volumes"`
		} `yaml:"spec"`
	} `yaml:"template"`
}

// k8sContainer is the part of a container the test reads.
type k8sContainer struct {
	Name  string   `yaml:"name"`
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	ReadinessProbe *k8sProbe `yaml:"readinessProbe"`
	LivenessProbe  *k8sProbe `yaml:"livenessProbe"`
	VolumeMounts   []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

// k8sProbe is an HTTP probe; Port is a number or a container port's name.
type k8sProbe struct {
	HTTPGet *struct {
		Path   string `yaml:"path"`
		Port   any    `yaml:"port"`
		Scheme string `yaml:"scheme"`
	} `yaml:"httpGet"`
}

// k8sVolume is a pod volume from a ConfigMap or a Secret.
type k8sVolume struct {
	Name      string `yaml:"name"`
	ConfigMap *struct {
		Name string `yaml:"name"`
	} `yaml:"configMap"`
	Secret *struct {
		SecretName string `yaml:"secretName"`
		Items      []struct {
			Key  string `yaml:"key"`
			Path string `yaml:"path"`
		} `yaml:"items"`
	} `yaml:"secret"`
}

// k8sServiceSpec is the part of a Service's spec the test reads.
type k8sServiceSpec struct {
	Ports []struct {
		Name       string `yaml:"name"`
		Port       int    `yaml:"port"`
		TargetPort any    `yaml:"targetPort"`
	} `yaml:"ports"`
}

// readManifests decodes every document of a multi-document YAML file,
// failing on any that does not parse or lacks apiVersion, kind or name.
func readManifests(t *testing.T, file string) []k8sObject {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []k8sObject
	dec := yaml.NewDecoder(f)
	for i := 1; ; i++ {
		var o k8sObject
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s document %d: %v", file, i, err)
		}
		if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
			t.Fatalf("%s document %d: apiVersion %q, kind %q, name %q: want all three", file, i, o.APIVersion, o.Kind, o.Metadata.Name)
		}
		out = append(out, o)
	}
	return out
}

// only returns the one object of kind, failing unless there is exactly one.
func only(t *testing.T, objs []k8sObject, kind string) k8sObject {
	t.Helper()
	var found []k8sObject
	for _, o := range objs {
		if o.Kind == kind {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s documents, want one", len(found), kind)
	}
	return found[0]
}

// containerPort resolves a probe's or Service's port (a number, or the
// name of one of c's ports) to a number.
func containerPort(t *testing.T, c k8sContainer, port any) int {
	t.Helper()
	switch p := port.(type) {
	case int:
		return p
	case string:
		for _, cp := range c.Ports {
			if cp.Name == p {
				return cp.ContainerPort
			}
		}
	}
	t.Fatalf("port %v: neither a number nor the name of a port of container %q", port, c.Name)
	return 0
}

// portOf is the port of a "host:port" listen address.
func portOf(t *testing.T, address string) (host string, port int) {
	t.Helper()
	h, p, err := net.SplitHostPort(address)
	n, err2 := strconv.Atoi(p)
	if err != nil || err2 != nil {
		t.Fatalf("address %q: %v %v", address, err, err2)
	}
	return h, n
}

// TestKubernetesExample checks examples/kubernetes/lb.yaml: every
// document parses; the pod's file system laid out from its volumes holds
// the ConfigMap's HCL where the container's -config points, and lb
// validate finds nothing in it (token_file read from the Secret's mount);
// the readiness probe asks /readyz and the liveness probe /healthz on the
// port of that HCL's admin listener, which listens beyond loopback; the
// Service targets a traffic listener; terminationGracePeriodSeconds
// covers that HCL's shutdown_delay + grace_period and the tail. Then it
// runs the HCL itself (addresses moved to loopback, the DNS discovery
// asked of a DNS server in the test that names a demo backend) and asks
// the probes' paths on its admin listener.
func TestKubernetesExample(t *testing.T) {
	objs := readManifests(t, filepath.Join("..", "..", "examples", "kubernetes", "lb.yaml"))
	cm := only(t, objs, "ConfigMap")
	var dep k8sDeploymentSpec
	if d := only(t, objs, "Deployment"); d.Spec.Decode(&dep) != nil {
		t.Fatal("Deployment spec does not decode")
	}
	var svc k8sServiceSpec
	if s := only(t, objs, "Service"); s.Spec.Decode(&svc) != nil {
		t.Fatal("Service spec does not decode")
	}
	pod := dep.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want one (lb)", len(pod.Containers))
	}
	c := pod.Containers[0]
	if len(c.Args) < 2 || c.Args[0] != "-config" {
		t.Fatalf("container args %q: want -config FILE first", c.Args)
	}
	cfgPath := c.Args[1]

	// The pod's file system under root: each mounted volume's files.
	root := t.TempDir()
	volumes := map[string]k8sVolume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	fromConfigMap := false
	for _, m := range c.VolumeMounts {
		v, ok := volumes[m.Name]
		if !ok {
			t.Fatalf("volumeMount %q names no volume", m.Name)
		}
		dir := filepath.Join(root, m.MountPath)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		switch {
		case v.ConfigMap != nil:
			if v.ConfigMap.Name != cm.Metadata.Name {
				t.Fatalf("volume %q mounts ConfigMap %q; the manifest defines %q", v.Name, v.ConfigMap.Name, cm.Metadata.Name)
			}
			for key, text := range cm.Data {
				writeFile(t, filepath.Join(dir, key), text)
				fromConfigMap = fromConfigMap || path.Join(m.MountPath, key) == cfgPath
			}
		case v.Secret != nil:
			if len(v.Secret.Items) == 0 {
				t.Fatalf("secret volume %q: list its items, so the file names are known", v.Name)
			}
			for _, it := range v.Secret.Items {
				writeFile(t, filepath.Join(dir, it.Path), randomToken(t)+"\n")
			}
		default:
			t.Fatalf("volume %q: only configMap and secret volumes are laid out here", v.Name)
		}
	}
	if !fromConfigMap {
		t.Fatalf("-config %s is no key of ConfigMap %q as mounted", cfgPath, cm.Metadata.Name)
	}
	hclFile := filepath.Join(root, cfgPath)
	if diags := validateJSON(t, hclFile); len(diags) != 0 {
		t.Fatalf("lb validate on the ConfigMap's HCL: %+v", diags)
	}
	cfg, diags := config.Load(hclFile)
	if diags.HasErrors() || cfg.Admin == nil {
		t.Fatalf("config.Load: %v; the probes need an admin block", diags)
	}

	adminHost, adminPort := portOf(t, cfg.Admin.Address)
	if ip := net.ParseIP(adminHost); ip != nil && ip.IsLoopback() {
		t.Errorf("admin address %s: the kubelet probes the pod IP, not loopback", cfg.Admin.Address)
	}
	for _, p := range []struct {
		name, path string
		probe      *k8sProbe
	}{{"readinessProbe", "/readyz", c.ReadinessProbe}, {"livenessProbe", "/healthz", c.LivenessProbe}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Fatalf("%s: want an httpGet probe", p.name)
		}
		g := p.probe.HTTPGet
		if g.Path != p.path || (g.Scheme != "" && g.Scheme != "HTTP") || containerPort(t, c, g.Port) != adminPort {
			t.Errorf("%s: %s %s port %v, want %s on the admin port %d", p.name, g.Scheme, g.Path, g.Port, p.path, adminPort)
		}
	}
	listenerPorts := map[int]bool{}
	for _, l := range cfg.Listeners {
		_, p := portOf(t, l.Address)
		listenerPorts[p] = true
	}
	for _, sp := range svc.Ports {
		if p := containerPort(t, c, sp.TargetPort); !listenerPorts[p] {
			t.Errorf("Service port %q targets %d, which no traffic listener of the HCL binds", sp.Name, p)
		}
	}

	delay, grace, how := cfg.ShutdownTiming()
	need := stopBudget(delay, grace)
	if g := pod.TerminationGracePeriodSeconds; g == nil || time.Duration(*g)*time.Second < need {
		t.Errorf("terminationGracePeriodSeconds (%s): the HCL's shutdown needs %s (%s; + %s tail + %s margin)",
			pretty(g), need, how, shutdownTail, minStopMargin)
	}

	runKubernetesHCL(t, hclFile, cfg, c)
}

// runKubernetesHCL runs the example's HCL with its listeners moved to
// free loopback ports and each DNS discovery asked of a test DNS server
// that names one demo backend, then asks the probes' paths on the admin
// listener: /readyz turns 200 once the discovered backend is healthy,
// /healthz answers 200, and a request through the listener reaches the
// backend. The rewritten file sits next to the original, so relative
// paths (token_file) resolve the same.
func runKubernetesHCL(t *testing.T, hclFile string, cfg *config.Config, c k8sContainer) {
	ports := freePorts(t, 2+len(cfg.Listeners))
	admin, backend, listeners := ports[0], ports[1], ports[2:]
	startBackend(t, backend, "web-0")
	// Listening before lb's first probe, else that probe fails and the
	// next one is an interval (5s) later.
	eventually(t, 15*time.Second, "demo backend listening", func() bool {
		conn, err := net.DialTimeout("tcp", backend, time.Second)
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	dns := dnstest.Start(t)
	_, backendPort := portOf(t, backend)

	src, err := os.ReadFile(hclFile)
	if err != nil {
		t.Fatal(err)
	}
	f, diags := hclwrite.ParseConfig(src, hclFile, hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	li := 0
	for _, b := range f.Body().Blocks() {
		switch b.Type() {
		case "admin":
			b.Body().SetAttributeValue("address", cty.StringVal(admin))
		case "listener":
			b.Body().SetAttributeValue("address", cty.StringVal(listeners[li]))
			li++
		case "pool":
			for _, d := range b.Body().Blocks() {
				if d.Type() != "discovery" {
					continue
				}
				if d.Labels()[0] != config.DiscoveryDNS {
					t.Fatalf("discovery %q: only dns is run here", d.Labels()[0])
				}
				d.Body().SetAttributeValue("resolver", cty.StringVal(dns.Addr()))
			}
		}
	}
	for _, p := range cfg.Pools {
		for _, d := range p.Discovery {
			if d.DNS.Type != config.DNSRecordSRV {
				t.Fatalf("discovery %q: only SRV is run here", d.DNS.Name)
			}
			dns.SetSRV(d.DNS.Name, dnstest.SRV{Port: uint16(backendPort), Target: "web-0.lb.test", TTL: 30})
		}
	}
	dns.SetA("web-0.lb.test", 30, "127.0.0.1")
	loopback := filepath.Join(filepath.Dir(hclFile), "lb.loopback.hcl")
	if err := os.WriteFile(loopback, f.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, "-config", loopback, "-log-format", "json")

	cl := client(t, 5*time.Second)
	ready := "http://" + admin + c.ReadinessProbe.HTTPGet.Path
	eventually(t, 30*time.Second, "readiness probe "+ready+" answers 200", func() bool {
		code, _, _, err := httpGet(cl, ready)
		return err == nil && code == 200
	})
	if code, _, _, err := httpGet(cl, "http://"+admin+c.LivenessProbe.HTTPGet.Path); err != nil || code != 200 {
		t.Errorf("liveness probe: %d, %v", code, err)
	}
	if code, _, tag, err := httpGet(cl, "http://"+listeners[0]+"/"); err != nil || code != 200 || tag != "web-0" {
		t.Errorf("request through the listener: %d from %q, %v; want 200 from the discovered backend", code, tag, err)
	}
}

// pretty shows an optional number of seconds.
func pretty(s *int64) string {
	if s == nil {
		return "not set: 30s"
	}
	return strconv.FormatInt(*s, 10) + "s"
}

// randomToken is a fresh admin token, as the README's openssl line makes.
func randomToken(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// validateJSON runs the built lb validate -format json on file and
// returns its diagnostics, failing unless it exits 0 with a valid report.
func validateJSON(t *testing.T, file string) []diagnosticJSON {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(lbBinary, "validate", "-config", file, "-format", "json")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("lb validate: %v\n%s%s", err, &stdout, &stderr)
	}
	var r validateReport
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil || !r.Valid {
		t.Fatalf("lb validate report (%v):\n%s", err, &stdout)
	}
	return r.Diagnostics
}
