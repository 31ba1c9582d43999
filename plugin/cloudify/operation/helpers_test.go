package operation_test

import "encoding/json"

func toString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
