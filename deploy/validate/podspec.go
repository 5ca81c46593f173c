package validate

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// allowedVolume reports whether Pod Security "restricted" allows a volume's source.
// https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
func allowedVolume(v corev1.Volume) bool {
	src := v.VolumeSource
	return src.ConfigMap != nil || src.CSI != nil || src.DownwardAPI != nil || src.EmptyDir != nil ||
		src.Ephemeral != nil || src.PersistentVolumeClaim != nil || src.Projected != nil || src.Secret != nil
}

// PodSecurity checks that every pod meets Pod Security "restricted", with every field set on every container (init
// containers too) rather than inherited from the pod, plus a read-only root filesystem, which "restricted" does not
// demand but these images never need to write.
func PodSecurity(s *Set) []error {
	var errs []error
	for _, w := range s.workloads() {
		spec := &w.template.Spec
		if spec.HostNetwork || spec.HostPID || spec.HostIPC {
			errs = append(errs, fmt.Errorf("%s: shares a host namespace (hostNetwork, hostPID or hostIPC)", w.ref))
		}
		if psc := spec.SecurityContext; psc != nil && psc.SeccompProfile != nil && psc.SeccompProfile.Type == corev1.SeccompProfileTypeUnconfined {
			errs = append(errs, fmt.Errorf("%s: pod seccompProfile Unconfined", w.ref))
		}
		for _, v := range spec.Volumes {
			if !allowedVolume(v) {
				errs = append(errs, fmt.Errorf("%s: volume %q has a type Pod Security restricted forbids", w.ref, v.Name))
			}
		}
		for _, c := range containersOf(spec) {
			for _, problem := range containerSecurity(c) {
				errs = append(errs, fmt.Errorf("%s: %s: %s", w.ref, c, problem))
			}
		}
	}
	return errs
}

func containerSecurity(c container) []string {
	sc := c.SecurityContext
	if sc == nil {
		return []string{"no securityContext"}
	}
	var problems []string
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		problems = append(problems, "runAsNonRoot is not true")
	}
	if sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		problems = append(problems, "runAsUser is unset or 0, want a fixed non-root uid")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		problems = append(problems, "readOnlyRootFilesystem is not true")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		problems = append(problems, "allowPrivilegeEscalation is not false")
	}
	if sc.Privileged != nil && *sc.Privileged {
		problems = append(problems, "privileged")
	}
	if sc.Capabilities == nil || !dropsAll(sc.Capabilities.Drop) {
		problems = append(problems, `capabilities do not drop "ALL"`)
	}
	if sc.Capabilities != nil && len(sc.Capabilities.Add) > 0 {
		problems = append(problems, fmt.Sprintf("capabilities add %v", sc.Capabilities.Add))
	}
	if sc.SeccompProfile == nil || (sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault && sc.SeccompProfile.Type != corev1.SeccompProfileTypeLocalhost) {
		problems = append(problems, "seccompProfile is not RuntimeDefault or Localhost")
	}
	for _, p := range c.Ports {
		if p.HostPort != 0 {
			problems = append(problems, fmt.Sprintf("port %q uses hostPort %d", p.Name, p.HostPort))
		}
	}
	return problems
}

func dropsAll(caps []corev1.Capability) bool {
	for _, c := range caps {
		if c == "ALL" {
			return true
		}
	}
	return false
}

// Resources checks that every container requests CPU and memory, so the scheduler can place it, and is limited in
// both, so one misbehaving pod cannot starve its node; requests do not exceed limits.
func Resources(s *Set) []error {
	var errs []error
	for _, w := range s.workloads() {
		for _, c := range containersOf(&w.template.Spec) {
			for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				req, hasReq := c.Resources.Requests[name]
				lim, hasLim := c.Resources.Limits[name]
				switch {
				case !hasReq:
					errs = append(errs, fmt.Errorf("%s: %s: no %s request", w.ref, c, name))
				case !hasLim:
					errs = append(errs, fmt.Errorf("%s: %s: no %s limit", w.ref, c, name))
				case req.Cmp(lim) > 0:
					errs = append(errs, fmt.Errorf("%s: %s: %s request %s exceeds limit %s", w.ref, c, name, req.String(), lim.String()))
				}
			}
		}
	}
	return errs
}

// Images checks that every image names a tag or digest other than "latest", and the pull policy is explicit and
// never Always. With kind there is no registry: `kind load` puts the image on the nodes, and a "latest" tag
// defaults the policy to Always, which makes the kubelet try to pull and fail with ErrImagePull.
func Images(s *Set) []error {
	var errs []error
	for _, w := range s.workloads() {
		for _, c := range containersOf(&w.template.Spec) {
			if problem := imageProblem(c.Image); problem != "" {
				errs = append(errs, fmt.Errorf("%s: %s: image %q %s", w.ref, c, c.Image, problem))
			}
			if c.ImagePullPolicy != corev1.PullIfNotPresent && c.ImagePullPolicy != corev1.PullNever {
				errs = append(errs, fmt.Errorf("%s: %s: imagePullPolicy %q, want IfNotPresent or Never", w.ref, c, c.ImagePullPolicy))
			}
		}
	}
	return errs
}

// imageProblem returns why image is not pinned, or "".
func imageProblem(image string) string {
	if image == "" {
		return "is empty"
	}
	if strings.Contains(image, "@sha256:") {
		return ""
	}
	// The tag follows the last colon after the last slash; a colon before it belongs to a registry's port.
	name := image[strings.LastIndex(image, "/")+1:]
	i := strings.LastIndex(name, ":")
	if i < 0 || i == len(name)-1 {
		return "has no tag (that means latest)"
	}
	if name[i+1:] == "latest" {
		return "uses the latest tag"
	}
	return ""
}

// ConfigMapRefs checks that every ConfigMap a pod mounts is in the tree under that exact name, with every key the
// volume selects. kustomize appends a content hash to generated ConfigMaps and rewrites the references it knows; a
// reference it missed, or a key that is not in the ConfigMap, leaves the pod stuck in ContainerCreating.
func ConfigMapRefs(s *Set) []error {
	byName := map[string]*corev1.ConfigMap{}
	for _, cm := range s.ConfigMaps {
		byName[cm.Namespace+"/"+cm.Name] = cm
	}
	var errs []error
	for _, w := range s.workloads() {
		for _, v := range w.template.Spec.Volumes {
			if v.ConfigMap == nil || (v.ConfigMap.Optional != nil && *v.ConfigMap.Optional) {
				continue
			}
			cm := byName[w.namespace+"/"+v.ConfigMap.Name]
			if cm == nil {
				errs = append(errs, fmt.Errorf("%s: volume %q mounts ConfigMap %q, which the tree does not contain", w.ref, v.Name, v.ConfigMap.Name))
				continue
			}
			for _, item := range v.ConfigMap.Items {
				_, inData := cm.Data[item.Key]
				_, inBinary := cm.BinaryData[item.Key]
				if !inData && !inBinary {
					errs = append(errs, fmt.Errorf("%s: volume %q selects key %q, which ConfigMap %s does not have", w.ref, v.Name, item.Key, cm.Name))
				}
			}
		}
	}
	return errs
}
