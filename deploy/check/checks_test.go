package check

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
)

// checker collects the problems of one rendering.
type checker struct {
	t        *testing.T
	problems []string
}

func (c *checker) errorf(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// manifests is one rendering, by kind.
type manifests struct {
	deployment      *appsv1.Deployment
	cronJob         *batchv1.CronJob
	hpa             *autoscalingv2.HorizontalPodAutoscaler
	pdb             *policyv1.PodDisruptionBudget
	services        []*corev1.Service
	testPods        []*corev1.Pod
	configMaps      map[string]*corev1.ConfigMap
	serviceAccounts []string
}

func collect(c *checker, objs []runtime.Object) *manifests {
	m := &manifests{configMaps: map[string]*corev1.ConfigMap{}}
	seen := map[string]bool{}
	for _, obj := range objs {
		meta, err := metaOf(obj)
		if err != nil {
			c.errorf("%v", err)
			continue
		}
		kind := kindOf(obj)
		if !contains(kinds, kind) {
			c.errorf("%s %s: the chart is not expected to render this kind", kind, meta.GetName())
		}
		if key := kind + "/" + meta.GetName(); seen[key] {
			c.errorf("%s rendered twice", key)
		} else {
			seen[key] = true
		}
		for _, msg := range validation.IsDNS1123Subdomain(meta.GetName()) {
			c.errorf("%s %s: name: %s", kind, meta.GetName(), msg)
		}
		switch o := obj.(type) {
		case *appsv1.Deployment:
			if m.deployment != nil {
				c.errorf("two Deployments: %s and %s", m.deployment.Name, o.Name)
			}
			m.deployment = o
		case *batchv1.CronJob:
			// A Job's name is the CronJob's plus 11 characters and must stay a 63-character label.
			if len(o.Name) > 52 {
				c.errorf("CronJob %s: name longer than 52 characters", o.Name)
			}
			m.cronJob = o
		case *autoscalingv2.HorizontalPodAutoscaler:
			m.hpa = o
		case *policyv1.PodDisruptionBudget:
			m.pdb = o
		case *corev1.Service:
			for _, msg := range validation.IsDNS1035Label(o.Name) {
				c.errorf("Service %s: name: %s", o.Name, msg)
			}
			m.services = append(m.services, o)
		case *corev1.Pod:
			if o.Annotations["helm.sh/hook"] != "test" {
				c.errorf("Pod %s: a bare Pod must be a helm test hook", o.Name)
			}
			m.testPods = append(m.testPods, o)
		case *corev1.ConfigMap:
			m.configMaps[o.Name] = o
		case *corev1.ServiceAccount:
			m.serviceAccounts = append(m.serviceAccounts, o.Name)
		}
	}
	if m.deployment == nil {
		c.errorf("no Deployment rendered")
		return nil
	}
	return m
}

func metaOf(obj runtime.Object) (metav1.Object, error) {
	if o, ok := obj.(metav1.Object); ok {
		return o, nil
	}
	return nil, fmt.Errorf("%T has no object metadata", obj)
}

// checkObjects checks one rendering: how the objects refer to each other, the pods' security, the
// probes, and every leadscore command line against the binary.
func checkObjects(t *testing.T, objs []runtime.Object) []string {
	t.Helper()
	c := &checker{t: t}
	m := collect(c, objs)
	if m == nil {
		return c.problems
	}
	dep := m.deployment
	podLabels := labels.Set(dep.Spec.Template.Labels)
	sel, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
	if err != nil || !sel.Matches(podLabels) {
		c.errorf("Deployment %s: selector %v does not match its pods' labels %v (%v)", dep.Name, dep.Spec.Selector, podLabels, err)
	}
	serve := container(&dep.Spec.Template.Spec, "serve")
	if serve == nil {
		c.errorf("Deployment %s: no container named serve", dep.Name)
		return c.problems
	}
	image := serve.Image

	checkPod(c, "Deployment "+dep.Name, &dep.Spec.Template.Spec, image, m)
	checkServe(c, serve)
	checkGrace(c, dep, serve)
	if cj := m.cronJob; cj != nil {
		spec := &cj.Spec.JobTemplate.Spec.Template.Spec
		checkPod(c, "CronJob "+cj.Name, spec, image, m)
		if spec.RestartPolicy != corev1.RestartPolicyNever && spec.RestartPolicy != corev1.RestartPolicyOnFailure {
			c.errorf("CronJob %s: restartPolicy %q", cj.Name, spec.RestartPolicy)
		}
		if tc := container(spec, "train"); tc == nil || len(tc.Args) == 0 || tc.Args[0] != "train" {
			c.errorf("CronJob %s: no train container running leadscore train", cj.Name)
		}
	}
	for _, p := range m.testPods {
		checkPod(c, "Pod "+p.Name, &p.Spec, image, m)
	}

	// Only the serving pods may carry the labels the Services and the budget select on.
	others := map[string]labels.Set{}
	if cj := m.cronJob; cj != nil {
		others["CronJob "+cj.Name] = cj.Spec.JobTemplate.Spec.Template.Labels
	}
	for _, p := range m.testPods {
		others["Pod "+p.Name] = p.Labels
	}
	selects := func(what string, selector labels.Selector) {
		if !selector.Matches(podLabels) {
			c.errorf("%s does not select the serving pods (%v)", what, podLabels)
		}
		for who, l := range others {
			if selector.Matches(l) {
				c.errorf("%s also selects the pods of %s", what, who)
			}
		}
	}
	for _, svc := range m.services {
		if len(svc.Spec.Selector) == 0 {
			c.errorf("Service %s: no selector", svc.Name)
			continue
		}
		selects("Service "+svc.Name, labels.SelectorFromSet(svc.Spec.Selector))
		for _, p := range svc.Spec.Ports {
			if port(serve, p.TargetPort.StrVal) == 0 && p.TargetPort.IntVal == 0 {
				c.errorf("Service %s: port %s targets %q, which the serve container does not name", svc.Name, p.Name, p.TargetPort.String())
			}
		}
		if strings.HasSuffix(svc.Name, "-headless") && svc.Spec.ClusterIP != corev1.ClusterIPNone {
			c.errorf("Service %s: a headless Service needs clusterIP: None", svc.Name)
		}
	}
	if pdb := m.pdb; pdb != nil {
		s, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil {
			c.errorf("PodDisruptionBudget %s: %v", pdb.Name, err)
		} else {
			selects("PodDisruptionBudget "+pdb.Name, s)
		}
		if (pdb.Spec.MaxUnavailable == nil) == (pdb.Spec.MinAvailable == nil) {
			c.errorf("PodDisruptionBudget %s: set exactly one of maxUnavailable and minAvailable", pdb.Name)
		}
	}
	if hpa := m.hpa; hpa != nil {
		ref := hpa.Spec.ScaleTargetRef
		if ref.Kind != "Deployment" || ref.APIVersion != "apps/v1" || ref.Name != dep.Name {
			c.errorf("HorizontalPodAutoscaler %s scales %s %s, not Deployment %s", hpa.Name, ref.Kind, ref.Name, dep.Name)
		}
		if dep.Spec.Replicas != nil {
			c.errorf("Deployment %s sets replicas while the HorizontalPodAutoscaler owns them", dep.Name)
		}
		if min := hpa.Spec.MinReplicas; min == nil || *min > hpa.Spec.MaxReplicas {
			c.errorf("HorizontalPodAutoscaler %s: minReplicas %v above maxReplicas %d", hpa.Name, min, hpa.Spec.MaxReplicas)
		}
	} else if dep.Spec.Replicas == nil {
		c.errorf("Deployment %s: no replicas and no HorizontalPodAutoscaler", dep.Name)
	}
	sa := dep.Spec.Template.Spec.ServiceAccountName
	if len(m.serviceAccounts) > 0 && !contains(m.serviceAccounts, sa) {
		c.errorf("Deployment %s runs as ServiceAccount %q, not the one rendered (%v)", dep.Name, sa, m.serviceAccounts)
	}
	return c.problems
}

// checkPod checks a pod spec: non-root, every leadscore container (image) locked down with resources
// and a command line the binary accepts, and every reference to a volume or ConfigMap resolved.
func checkPod(c *checker, where string, spec *corev1.PodSpec, image string, m *manifests) {
	if sc := spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		c.errorf("%s: pod securityContext.runAsNonRoot is not true", where)
	}
	volumes := map[string]bool{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = true
		// The chart's own ConfigMaps are named after the release; others are the operator's.
		if cm := v.ConfigMap; cm != nil && strings.HasPrefix(cm.Name, m.deployment.Name) && m.configMaps[cm.Name] == nil {
			c.errorf("%s: volume %s mounts ConfigMap %s, which is not rendered", where, v.Name, cm.Name)
		}
	}
	all := append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
	for i := range all {
		ct := &all[i]
		at := where + ", container " + ct.Name
		for _, vm := range ct.VolumeMounts {
			if !volumes[vm.Name] {
				c.errorf("%s: mounts volume %s, which the pod does not have", at, vm.Name)
			}
		}
		if ct.Image != image {
			continue // an operator's own init container
		}
		sc := ct.SecurityContext
		switch {
		case sc == nil:
			c.errorf("%s: no securityContext", at)
		case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
			c.errorf("%s: root filesystem not read-only", at)
		case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
			c.errorf("%s: privilege escalation allowed", at)
		case sc.Capabilities == nil || !contains(capNames(sc.Capabilities.Drop), "ALL"):
			c.errorf("%s: capabilities not all dropped", at)
		}
		if len(ct.Resources.Requests) == 0 {
			c.errorf("%s: no resource requests", at)
		}
		args, err := expandArgs(ct, m.configMaps)
		if err != nil {
			c.errorf("%s: %v", at, err)
			continue
		}
		if err := acceptedByBinary(c.t, args); err != nil {
			c.errorf("%s: %v", at, err)
		}
	}
}

// checkServe checks the serving container: its listen flags match its named ports, and its three
// probes are gRPC health checks on the plaintext health port.
func checkServe(c *checker, serve *corev1.Container) {
	for flagName, portName := range map[string]string{"--addr": "grpc", "--health-addr": "health", "--metrics-addr": "metrics", "--http-addr": "http"} {
		want := port(serve, portName)
		got := flagPort(serve.Args, flagName)
		if flagName == "--http-addr" && want == 0 && got == 0 {
			continue // REST is optional
		}
		if want == 0 || got != want {
			c.errorf("serve: %s listens on port %d, the container port named %s is %d", flagName, got, portName, want)
		}
	}
	health := port(serve, "health")
	for name, p := range map[string]*corev1.Probe{"startup": serve.StartupProbe, "readiness": serve.ReadinessProbe, "liveness": serve.LivenessProbe} {
		switch {
		case p == nil:
			c.errorf("serve: no %s probe", name)
		case p.GRPC == nil:
			c.errorf("serve: the %s probe is not a gRPC health check", name)
		case p.GRPC.Port != health:
			c.errorf("serve: the %s probe checks port %d, not the health port %d", name, p.GRPC.Port, health)
		}
	}
}

// checkGrace checks that the pod's termination grace period covers the shutdown delay and the drain,
// so the kubelet never kills a replica that is still finishing calls.
func checkGrace(c *checker, dep *appsv1.Deployment, serve *corev1.Container) {
	var sum time.Duration
	for _, name := range []string{"--shutdown-delay", "--drain"} {
		v, ok := flagValue(serve.Args, name)
		d, err := time.ParseDuration(v)
		if !ok || err != nil {
			c.errorf("serve: %s must be given as a duration (%q)", name, v)
			return
		}
		sum += d
	}
	grace := dep.Spec.Template.Spec.TerminationGracePeriodSeconds
	if grace == nil || time.Duration(*grace)*time.Second <= sum {
		c.errorf("Deployment %s: terminationGracePeriodSeconds %v does not exceed --shutdown-delay plus --drain (%v)", dep.Name, ptrString(grace), sum)
	}
}

func ptrString(p *int64) string {
	if p == nil {
		return "unset"
	}
	return strconv.FormatInt(*p, 10)
}

// flagValue returns the value of --flag=VALUE in args.
func flagValue(args []string, flag string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v, true
		}
	}
	return "", false
}

func container(spec *corev1.PodSpec, name string) *corev1.Container {
	for i := range spec.Containers {
		if spec.Containers[i].Name == name {
			return &spec.Containers[i]
		}
	}
	return nil
}

// port returns the number of c's port called name, or 0.
func port(c *corev1.Container, name string) int32 {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

// flagPort returns the port of the address given to flag as --flag=ADDR, or 0.
func flagPort(args []string, flag string) int32 {
	v, _ := flagValue(args, flag)
	if _, p, err := net.SplitHostPort(v); err == nil {
		if n, err := strconv.ParseInt(p, 10, 32); err == nil {
			return int32(n)
		}
	}
	return 0
}

func capNames(cs []corev1.Capability) []string {
	var s []string
	for _, c := range cs {
		s = append(s, string(c))
	}
	return s
}

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expandArgs returns c's arguments with $(VAR) replaced as the kubelet does, from c's env values and
// the ConfigMap keys they refer to; a variable that does not resolve is an error.
func expandArgs(c *corev1.Container, cms map[string]*corev1.ConfigMap) ([]string, error) {
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			cm := cms[ref.Name]
			if cm == nil {
				return nil, fmt.Errorf("env %s refers to ConfigMap %s, which is not rendered", e.Name, ref.Name)
			}
			v, ok := cm.Data[ref.Key]
			if !ok {
				return nil, fmt.Errorf("env %s refers to key %s, which ConfigMap %s does not have", e.Name, ref.Key, ref.Name)
			}
			env[e.Name] = v
		default:
			env[e.Name] = "value-from-" + e.Name
		}
	}
	args := make([]string, len(c.Args))
	var missing []string
	for i, a := range c.Args {
		args[i] = varRef.ReplaceAllStringFunc(a, func(ref string) string {
			name := varRef.FindStringSubmatch(ref)[1]
			v, ok := env[name]
			if !ok {
				missing = append(missing, name)
			}
			return v
		})
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("arguments refer to $(%s), which the container's env does not define", strings.Join(missing, "), $("))
	}
	return args, nil
}

// acceptedByBinary runs `leadscore ARGS --help`: cobra parses every flag (name and value) before it
// prints the help, so an unknown flag or a bad value fails while nothing runs.
func acceptedByBinary(t *testing.T, args []string) error {
	t.Helper()
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("arguments %q do not start with a leadscore command", args)
	}
	cmd := exec.Command(leadscoreBin(t), append(slices.Clone(args), "--help")...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("leadscore %s --help: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// leadscoreBin returns $LEADSCORE_BIN, or builds the binary from this repository once.
func leadscoreBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if binPath = os.Getenv("LEADSCORE_BIN"); binPath != "" {
			return
		}
		root, err := filepath.Abs("../..")
		if err != nil {
			binErr = err
			return
		}
		dir, err := os.MkdirTemp("", "leadscore-deploy-check-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "leadscore")
		cmd := exec.Command("go", "build", "-C", root, "-o", binPath, "./cmd/leadscore")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("building leadscore: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" && os.Getenv("LEADSCORE_BIN") == "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// TestFlagCheckRejects checks the flag check itself: a flag the binary lacks, or a value it cannot
// parse, fails it.
func TestFlagCheckRejects(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		ok   bool
	}{
		{"known flags", []string{"serve", "--poll=10s", "--addr=:50051"}, true},
		{"unknown flag", []string{"serve", "--replcas=3"}, false},
		{"bad value", []string{"serve", "--poll=soon"}, false},
		{"unknown command", []string{"serv", "--poll=10s"}, false},
		{"no command", []string{"--poll=10s"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := acceptedByBinary(t, tt.args); (err == nil) != tt.ok {
				t.Errorf("got %v, want accepted: %v", err, tt.ok)
			}
		})
	}
}

// TestChecksCatch breaks the committed rendering one way at a time, after decoding: each break must
// be reported, and the unbroken rendering must have no problem.
func TestChecksCatch(t *testing.T) {
	data, err := os.ReadFile(rendered)
	if err != nil {
		t.Fatal(err)
	}
	find := func(objs []runtime.Object) (*appsv1.Deployment, *batchv1.CronJob, *autoscalingv2.HorizontalPodAutoscaler, *corev1.Service) {
		var (
			dep *appsv1.Deployment
			cj  *batchv1.CronJob
			hpa *autoscalingv2.HorizontalPodAutoscaler
			svc *corev1.Service
		)
		for _, o := range objs {
			switch o := o.(type) {
			case *appsv1.Deployment:
				dep = o
			case *batchv1.CronJob:
				cj = o
			case *autoscalingv2.HorizontalPodAutoscaler:
				hpa = o
			case *corev1.Service:
				svc = o
			}
		}
		if dep == nil || cj == nil || hpa == nil || svc == nil {
			t.Fatal("the default rendering lacks a Deployment, CronJob, HPA or Service")
		}
		return dep, cj, hpa, svc
	}
	serveArg := func(dep *appsv1.Deployment, prefix, value string) {
		args := dep.Spec.Template.Spec.Containers[0].Args
		for i, a := range args {
			if strings.HasPrefix(a, prefix) {
				args[i] = value
				return
			}
		}
		t.Fatalf("no serve argument starts with %s", prefix)
	}
	three := int32(3)
	for _, tt := range []struct {
		name   string
		mutate func(*appsv1.Deployment, *batchv1.CronJob, *autoscalingv2.HorizontalPodAutoscaler, *corev1.Service)
		want   string // "" for the unbroken rendering
	}{
		{"unbroken", func(*appsv1.Deployment, *batchv1.CronJob, *autoscalingv2.HorizontalPodAutoscaler, *corev1.Service) {}, ""},
		{"probe on the wrong port", func(d *appsv1.Deployment, _ *batchv1.CronJob, _ *autoscalingv2.HorizontalPodAutoscaler, _ *corev1.Service) {
			d.Spec.Template.Spec.Containers[0].ReadinessProbe.GRPC.Port = 50051
		}, "readiness probe checks port 50051"},
		{"health listener off its port", func(d *appsv1.Deployment, _ *batchv1.CronJob, _ *autoscalingv2.HorizontalPodAutoscaler, _ *corev1.Service) {
			serveArg(d, "--health-addr=", "--health-addr=:9999")
		}, "--health-addr listens on port 9999"},
		{"writable root filesystem", func(d *appsv1.Deployment, _ *batchv1.CronJob, _ *autoscalingv2.HorizontalPodAutoscaler, _ *corev1.Service) {
			no := false
			d.Spec.Template.Spec.Containers[0].SecurityContext.ReadOnlyRootFilesystem = &no
		}, "root filesystem not read-only"},
		{"replicas beside the HPA", func(d *appsv1.Deployment, _ *batchv1.CronJob, _ *autoscalingv2.HorizontalPodAutoscaler, _ *corev1.Service) {
			d.Spec.Replicas = &three
		}, "sets replicas while"},
		{"HPA scales another Deployment", func(_ *appsv1.Deployment, _ *batchv1.CronJob, h *autoscalingv2.HorizontalPodAutoscaler, _ *corev1.Service) {
			h.Spec.ScaleTargetRef.Name = "other"
		}, "not Deployment"},
		{"retrain pods look like serving pods", func(_ *appsv1.Deployment, cj *batchv1.CronJob, _ *autoscalingv2.HorizontalPodAutoscaler, _ *corev1.Service) {
			cj.Spec.JobTemplate.Spec.Template.Labels["app.kubernetes.io/component"] = "serve"
		}, "also selects the pods of CronJob"},
		{"Service targets an unnamed port", func(_ *appsv1.Deployment, _ *batchv1.CronJob, _ *autoscalingv2.HorizontalPodAutoscaler, s *corev1.Service) {
			s.Spec.Ports[0].TargetPort.StrVal = "grcp"
		}, "does not name"},
		{"unknown serve flag", func(d *appsv1.Deployment, _ *batchv1.CronJob, _ *autoscalingv2.HorizontalPodAutoscaler, _ *corev1.Service) {
			serveArg(d, "--poll=", "--pol=10s")
		}, "unknown flag: --pol"},
		{"bad train flag value", func(_ *appsv1.Deployment, cj *batchv1.CronJob, _ *autoscalingv2.HorizontalPodAutoscaler, _ *corev1.Service) {
			c := &cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0]
			c.Args = append(c.Args, "--folds=five")
		}, "--folds"},
		{"undefined variable", func(d *appsv1.Deployment, _ *batchv1.CronJob, _ *autoscalingv2.HorizontalPodAutoscaler, _ *corev1.Service) {
			serveArg(d, "--models=", "--models=$(STORE)")
		}, "$(STORE)"},
		{"missing ConfigMap key", func(d *appsv1.Deployment, _ *batchv1.CronJob, _ *autoscalingv2.HorizontalPodAutoscaler, _ *corev1.Service) {
			d.Spec.Template.Spec.Containers[0].Env[0].ValueFrom.ConfigMapKeyRef.Key = "store"
		}, "refers to key store"},
		{"volume of a ConfigMap the chart does not render", func(d *appsv1.Deployment, _ *batchv1.CronJob, _ *autoscalingv2.HorizontalPodAutoscaler, _ *corev1.Service) {
			d.Spec.Template.Spec.Volumes = append(d.Spec.Template.Spec.Volumes, corev1.Volume{Name: "rules",
				VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: d.Name + "-rules"}}}})
		}, "mounts ConfigMap leadscore-rules, which is not rendered"},
		{"grace period shorter than the drain", func(d *appsv1.Deployment, _ *batchv1.CronJob, _ *autoscalingv2.HorizontalPodAutoscaler, _ *corev1.Service) {
			short := int64(20)
			d.Spec.Template.Spec.TerminationGracePeriodSeconds = &short
		}, "terminationGracePeriodSeconds 20 does not exceed"},
		{"mount without a volume", func(_ *appsv1.Deployment, cj *batchv1.CronJob, _ *autoscalingv2.HorizontalPodAutoscaler, _ *corev1.Service) {
			c := &cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0]
			c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "exports", MountPath: "/exports"})
		}, "mounts volume exports, which the pod does not have"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := decodeManifests(data)
			if err != nil {
				t.Fatal(err)
			}
			tt.mutate(find(objs))
			problems := checkObjects(t, objs)
			if tt.want == "" {
				if len(problems) > 0 {
					t.Errorf("problems in the unbroken rendering: %q", problems)
				}
				return
			}
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tt.want) }) {
				t.Errorf("got problems %q, want one containing %q", problems, tt.want)
			}
		})
	}
}
