package chaos

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/cloudify-chaos/chaosops/plugin/chaos/api"
)

func listObjects(ctx context.Context, ri dynamic.ResourceInterface, selector string) ([]*api.Object, error) {
	list, err := ri.List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	var out []*api.Object
	for i := range list.Items {
		o, err := api.FromUnstructured(&list.Items[i])
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}
