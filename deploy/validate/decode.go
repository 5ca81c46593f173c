package validate

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// CustomKinds are the kinds outside k8s.io/api that deploy/ may contain. They are defined by CRDs, so no Go types
// describe their fields; Decode keeps them as unstructured objects and checks only apiVersion and kind.
var CustomKinds = []schema.GroupVersionKind{
	{Group: "metallb.io", Version: "v1beta1", Kind: "IPAddressPool"},
}

// Set holds the objects of one rendered tree, by kind, in the order they were rendered.
type Set struct {
	// Order names every object as "Kind namespace/name" in stream order, the order `kubectl apply` uses.
	Order []string

	Namespaces           []*corev1.Namespace
	ConfigMaps           []*corev1.ConfigMap
	Services             []*corev1.Service
	Deployments          []*appsv1.Deployment
	StatefulSets         []*appsv1.StatefulSet
	PodDisruptionBudgets []*policyv1.PodDisruptionBudget
	NetworkPolicies      []*networkingv1.NetworkPolicy
	Custom               []*unstructured.Unstructured
}

// Decode reads a multi-document YAML stream strictly: an unknown or duplicated field, a wrong type or an
// unexpected kind is an error. A kind that deploy/ does not use yet is rejected too, so adding one means
// teaching these checks about it.
func Decode(stream []byte) (*Set, error) {
	decoder, err := strictDecoder()
	if err != nil {
		return nil, err
	}
	set := &Set{}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	for i := 0; ; i++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return set, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		if err := set.add(decoder, doc); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
	}
}

// strictDecoder knows exactly the API groups deploy/ uses. EnableStrict turns unknown and duplicate fields into
// errors; the universal deserializer neither defaults nor converts, so what is checked is what was written.
func strictDecoder() (runtime.Decoder, error) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, policyv1.AddToScheme, networkingv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			return nil, fmt.Errorf("build scheme: %w", err)
		}
	}
	return serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer(), nil
}

func (s *Set) add(decoder runtime.Decoder, doc []byte) error {
	obj, gvk, err := decoder.Decode(doc, nil, nil)
	if runtime.IsNotRegisteredError(err) {
		return s.addCustom(doc)
	}
	if err != nil {
		return fmt.Errorf("decode %v: %w", gvk, err)
	}
	if m, err := meta.Accessor(obj); err == nil {
		s.Order = append(s.Order, fmt.Sprintf("%s %s/%s", gvk.Kind, m.GetNamespace(), m.GetName()))
	}
	switch o := obj.(type) {
	case *corev1.Namespace:
		s.Namespaces = append(s.Namespaces, o)
	case *corev1.ConfigMap:
		s.ConfigMaps = append(s.ConfigMaps, o)
	case *corev1.Service:
		s.Services = append(s.Services, o)
	case *appsv1.Deployment:
		s.Deployments = append(s.Deployments, o)
	case *appsv1.StatefulSet:
		s.StatefulSets = append(s.StatefulSets, o)
	case *policyv1.PodDisruptionBudget:
		s.PodDisruptionBudgets = append(s.PodDisruptionBudgets, o)
	case *networkingv1.NetworkPolicy:
		s.NetworkPolicies = append(s.NetworkPolicies, o)
	default:
		return fmt.Errorf("kind %v is not expected in deploy/; teach the validate package about it first", gvk)
	}
	return nil
}

func (s *Set) addCustom(doc []byte) error {
	u := &unstructured.Unstructured{}
	if err := utilyaml.Unmarshal(doc, &u.Object); err != nil {
		return fmt.Errorf("decode custom object: %w", err)
	}
	gvk := u.GroupVersionKind()
	for _, known := range CustomKinds {
		if gvk == known {
			if u.GetName() == "" {
				return fmt.Errorf("%v has no metadata.name", gvk)
			}
			s.Custom = append(s.Custom, u)
			s.Order = append(s.Order, fmt.Sprintf("%s %s/%s", gvk.Kind, u.GetNamespace(), u.GetName()))
			return nil
		}
	}
	return fmt.Errorf("kind %v is neither in k8s.io/api nor in CustomKinds", gvk)
}
