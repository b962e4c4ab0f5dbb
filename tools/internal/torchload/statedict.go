package torchload

import (
	"fmt"
	"sort"
	"strings"

	"github.com/nlpodyssey/gopickle/types"
)

// StateDict is the tensors of a model's state_dict.
type StateDict struct {
	Keys    []string           // tensor names in file order, prefix removed
	Tensors map[string]*Tensor // by name
	Under   string             // wrapper key the state_dict was found under; "" if bare
	Prefix  string             // prefix removed from every key ("module." from DataParallel), or ""
	Skipped []string           // entries that are not tensors (extra state), ignored
}

// wrapperKeys are the keys training scripts commonly store a state_dict
// under, tried in this order.
var wrapperKeys = []string{"state_dict", "model_state_dict", "model", "net"}

// dictEntry is one key/value pair of a pickled dict.
type dictEntry struct {
	key   interface{}
	value interface{}
}

// entries returns a dict's pairs in order, later duplicates replacing
// earlier ones as in Python; ok is false if v is not a dict.
func entries(v interface{}) (out []dictEntry, ok bool) {
	switch d := v.(type) {
	case *types.Dict:
		idx := map[interface{}]int{}
		for _, e := range *d {
			k := e.Key
			if _, hashable := k.(string); !hashable {
				out = append(out, dictEntry{k, e.Value})
				continue
			}
			if i, dup := idx[k]; dup {
				out[i].value = e.Value
				continue
			}
			idx[k] = len(out)
			out = append(out, dictEntry{k, e.Value})
		}
		return out, true
	case *types.OrderedDict:
		for el := d.List.Front(); el != nil; el = el.Next() {
			e := el.Value.(*types.OrderedDictEntry)
			out = append(out, dictEntry{e.Key, e.Value})
		}
		return out, true
	}
	return nil, false
}

func describe(v interface{}) string {
	switch x := v.(type) {
	case *Tensor:
		return "a tensor"
	case *types.List:
		return "a list"
	case *types.Tuple:
		return "a tuple"
	case *Opaque:
		return "a " + x.Global
	}
	if _, ok := entries(v); ok {
		return "a dict"
	}
	return fmt.Sprintf("a %T", v)
}

// StateDict finds the state_dict in the checkpoint: the top-level dict
// itself, or a dict under one of the keys state_dict, model_state_dict,
// model or net. A prefix shared by every key ("module." from DataParallel,
// "_orig_mod." from torch.compile) is removed.
func (c *Checkpoint) StateDict() (*StateDict, error) {
	top, ok := entries(c.Root)
	if !ok {
		return nil, fmt.Errorf("checkpoint holds %s, not a state_dict", describe(c.Root))
	}
	sd := &StateDict{Tensors: map[string]*Tensor{}}
	chosen := top
	for _, w := range wrapperKeys {
		for _, e := range top {
			if e.key != w {
				continue
			}
			if inner, ok := entries(e.value); ok {
				chosen, sd.Under = inner, w
			}
		}
		if sd.Under != "" {
			break
		}
	}
	for _, e := range chosen {
		k, ok := e.key.(string)
		if !ok {
			return nil, fmt.Errorf("state_dict has a key of type %T, want strings", e.key)
		}
		if t, ok := e.value.(*Tensor); ok {
			sd.Keys = append(sd.Keys, k)
			sd.Tensors[k] = t
		} else {
			sd.Skipped = append(sd.Skipped, k)
		}
	}
	if len(sd.Keys) == 0 {
		keys := make([]string, 0, len(top))
		for _, e := range top {
			keys = append(keys, fmt.Sprint(e.key))
		}
		sort.Strings(keys)
		if len(keys) > 12 {
			keys = append(keys[:12], "...")
		}
		return nil, fmt.Errorf("checkpoint holds no tensors: not a state_dict (top-level keys: %s)", strings.Join(keys, ", "))
	}
	for _, p := range []string{"module.", "_orig_mod."} {
		for allHave(sd.Keys, p) {
			sd.Prefix += p
			tensors := make(map[string]*Tensor, len(sd.Keys))
			for i, k := range sd.Keys {
				sd.Keys[i] = strings.TrimPrefix(k, p)
				tensors[sd.Keys[i]] = sd.Tensors[k]
			}
			sd.Tensors = tensors
		}
	}
	return sd, nil
}

func allHave(keys []string, p string) bool {
	for _, k := range keys {
		if !strings.HasPrefix(k, p) {
			return false
		}
	}
	return len(keys) > 0
}
