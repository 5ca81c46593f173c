package kind

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// kubeadmCorefile is the Corefile kubeadm v1.37 writes.
const kubeadmCorefile = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success cluster.local
       disable denial cluster.local
    }
    loop
    reload
    loadbalance
}
`

const clusterOnlyCorefile = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    cache 30 {
       disable success cluster.local
       disable denial cluster.local
    }
    reload
    loadbalance
}
`

func TestWithoutForward(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		changed        bool
	}{
		{"kubeadm's", kubeadmCorefile, clusterOnlyCorefile, true},
		{"already without", clusterOnlyCorefile, clusterOnlyCorefile, false},
		{"one-line forward", ".:53 {\n    kubernetes cluster.local\n    forward . 8.8.8.8\n}\n", ".:53 {\n    kubernetes cluster.local\n}\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, changed := withoutForward(tc.in)
			if got != tc.want || changed != tc.changed {
				t.Errorf("withoutForward = (changed %v)\n%s\nwant (changed %v)\n%s", changed, got, tc.changed, tc.want)
			}
		})
	}
}

func TestDropForwardUpdatesTheConfigMapOnce(t *testing.T) {
	ctx := context.Background()
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "coredns", Namespace: metav1.NamespaceSystem},
		Data:       map[string]string{"Corefile": kubeadmCorefile},
	}
	client := fake.NewClientset(cm)
	for i, want := range []bool{true, false} {
		changed, err := dropForward(ctx, client)
		if err != nil || changed != want {
			t.Fatalf("call %d: dropForward = %v, %v; want %v, nil", i+1, changed, err, want)
		}
	}
	got, err := client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, "coredns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Data["Corefile"] != clusterOnlyCorefile {
		t.Errorf("Corefile after dropForward:\n%s", got.Data["Corefile"])
	}
}

func TestDropForwardWithoutCoreDNS(t *testing.T) {
	if _, err := dropForward(context.Background(), fake.NewClientset()); err == nil {
		t.Error("dropForward found a coredns ConfigMap in an empty cluster")
	}
}
