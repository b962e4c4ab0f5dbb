package torchload

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/nlpodyssey/gopickle/types"
)

// UnknownGlobalError is returned when a pickle names a Python global outside
// the allow-list: loading stops there, nothing is called.
type UnknownGlobalError struct{ Module, Name string }

func (e *UnknownGlobalError) Error() string {
	hint := ""
	if !strings.HasPrefix(e.Module, "torch") || strings.HasPrefix(e.Module, "torch.nn.modules") {
		hint = " (a whole pickled model or a custom object?); save the weights with torch.save(model.state_dict(), path)"
	}
	return fmt.Sprintf("checkpoint pickle asks for global %s.%s, which is not on the allow-list%s", e.Module, e.Name, hint)
}

// storageDTypes maps torch.*Storage class names to element types.
var storageDTypes = map[string]DType{
	"FloatStorage":    Float32,
	"HalfStorage":     Float16,
	"BFloat16Storage": BFloat16,
	"DoubleStorage":   Float64,
	"LongStorage":     Int64,
	"IntStorage":      Int32,
	"ShortStorage":    Int16,
	"CharStorage":     Int8,
	"ByteStorage":     Uint8,
	"BoolStorage":     Bool,
}

// storageClass is the value a torch.*Storage global unpickles to; it is only
// ever an argument of a persistent id.
type storageClass struct{ dtype DType }

// findClass is the allow-list. gopickle itself resolves three harmless
// Python-2-era names before asking us (collections.OrderedDict,
// __builtin__.object, copy_reg._reconstructor); none of them runs code.
func findClass(module, name string) (interface{}, error) {
	switch module + "." + name {
	case "torch._utils._rebuild_tensor_v2":
		return &rebuildFunc{name: name, fn: rebuildTensorV2}, nil
	case "torch._utils._rebuild_tensor":
		return &rebuildFunc{name: name, fn: rebuildTensor}, nil
	case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
		return &rebuildFunc{name: name, fn: rebuildParameter}, nil
	case "torch._tensor._rebuild_from_type_v2":
		return &rebuildFunc{name: name, fn: rebuildFromTypeV2}, nil
	case "torch.nn.parameter.Parameter", "torch._tensor.Tensor", "torch.Tensor":
		return &inert{global: module + "." + name}, nil
	// Inert data that training scripts commonly store beside the weights
	// (argparse arguments, numpy scalars such as best_acc). They become
	// opaque values; no code is involved.
	case "argparse.Namespace", "numpy.core.multiarray.scalar", "numpy.dtype", "_codecs.encode":
		return &inert{global: module + "." + name}, nil
	}
	if module == "torch" {
		if dt, ok := storageDTypes[name]; ok {
			return &storageClass{dtype: dt}, nil
		}
	}
	return nil, &UnknownGlobalError{Module: module, Name: name}
}

// rebuildFunc is an allow-listed torch function, run by Go code.
type rebuildFunc struct {
	name string
	fn   func(args ...interface{}) (interface{}, error)
}

func (r *rebuildFunc) Call(args ...interface{}) (interface{}, error) { return r.fn(args...) }

// inert is an allow-listed global whose instances carry no data we use.
type inert struct{ global string }

// Opaque is what an allow-listed non-tensor object (argparse.Namespace, a
// numpy scalar, ...) loads as.
type Opaque struct{ Global string }

func (g *inert) Call(...interface{}) (interface{}, error)  { return &Opaque{Global: g.global}, nil }
func (g *inert) PyNew(...interface{}) (interface{}, error) { return &Opaque{Global: g.global}, nil }

// PySetState accepts and drops BUILD state.
func (*Opaque) PySetState(interface{}) error { return nil }

// PyDictSet accepts and drops attribute state.
func (*Opaque) PyDictSet(interface{}, interface{}) error { return nil }

func toInt(v interface{}, what string) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case *big.Int:
		if x.IsInt64() {
			return x.Int64(), nil
		}
	}
	return 0, fmt.Errorf("%s is %T, want a small integer", what, v)
}

func toInts(v interface{}, what string) ([]int64, error) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, fmt.Errorf("%s is %T, want a tuple", what, v)
	}
	if t.Len() > maxDims {
		return nil, fmt.Errorf("%s has %d dimensions, at most %d", what, t.Len(), maxDims)
	}
	out := make([]int64, t.Len())
	for i := range out {
		x, err := toInt(t.Get(i), what)
		if err != nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

// rebuildTensorV2(storage, offset, size, stride, requires_grad,
// backward_hooks[, metadata]).
func rebuildTensorV2(args ...interface{}) (interface{}, error) {
	if len(args) < 4 || len(args) > 7 {
		return nil, fmt.Errorf("_rebuild_tensor_v2 called with %d arguments, want 6 or 7", len(args))
	}
	return rebuildTensor(args[:4]...)
}

// rebuildTensor(storage, offset, size, stride).
func rebuildTensor(args ...interface{}) (interface{}, error) {
	if len(args) != 4 {
		return nil, fmt.Errorf("_rebuild_tensor called with %d arguments, want 4", len(args))
	}
	st, ok := args[0].(*storage)
	if !ok {
		return nil, fmt.Errorf("tensor storage is %T, want a persistent storage", args[0])
	}
	off, err := toInt(args[1], "tensor storage offset")
	if err != nil {
		return nil, err
	}
	size, err := toInts(args[2], "tensor size")
	if err != nil {
		return nil, err
	}
	stride, err := toInts(args[3], "tensor stride")
	if err != nil {
		return nil, err
	}
	return newTensor(st, off, size, stride)
}

// rebuildParameter(data, requires_grad, backward_hooks[, state]): the
// parameter is its data tensor.
func rebuildParameter(args ...interface{}) (interface{}, error) {
	if len(args) < 3 || len(args) > 4 {
		return nil, fmt.Errorf("_rebuild_parameter called with %d arguments, want 3 or 4", len(args))
	}
	t, ok := args[0].(*Tensor)
	if !ok {
		return nil, fmt.Errorf("parameter data is %T, want a tensor", args[0])
	}
	return t, nil
}

// rebuildFromTypeV2(func, new_type, args, state): torch 2.x wraps tensor
// subclasses (Parameter) this way; the tensor comes from func(*args).
func rebuildFromTypeV2(args ...interface{}) (interface{}, error) {
	if len(args) != 4 {
		return nil, fmt.Errorf("_rebuild_from_type_v2 called with %d arguments, want 4", len(args))
	}
	fn, ok := args[0].(*rebuildFunc)
	if !ok || fn.name == "_rebuild_from_type_v2" {
		return nil, fmt.Errorf("_rebuild_from_type_v2 function is %T, want a tensor rebuild function", args[0])
	}
	fa, ok := args[2].(*types.Tuple)
	if !ok {
		return nil, fmt.Errorf("_rebuild_from_type_v2 arguments are %T, want a tuple", args[2])
	}
	return fn.fn(*fa...)
}
