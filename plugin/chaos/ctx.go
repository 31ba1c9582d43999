package chaos

import "context"

// ctxT keeps hook signatures short.
type ctxT = context.Context
