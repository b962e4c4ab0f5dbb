package boards

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// RuleSyntax is a one-paragraph summary of the GPIO rule language, for flag
// usage text.
const RuleSyntax = `PIN=COND; several rules separated by ';' or repeated flags.
COND is "busy" (high while a frame is processed, a pulse per frame) or terms
joined by '&', all of which must hold for the pin to be high:
  class:LIST        predicted class is in LIST (numbers, ranges a-b, or labels; comma-separated)
  conf OP X         top-class confidence, X in [0,1]; OP is > >= < <=
  spike-rate OP X   mean firing rate of the frame, X in [0,1]
Several pins before '=' take one class each, in order: GPIO5,GPIO6,GPIO13=class:0-2.
Examples: GPIO17=class:3  GPIO27=spike-rate>0.2  GPIO22=class:cat&conf>=0.8  GPIO23=busy`

// RuleSpecs collects the values of a repeatable -gpio flag for
// [ParseRules], which runs once the model's labels are known:
//
//	var gpioRules boards.RuleSpecs
//	flag.Var(&gpioRules, "gpio", boards.RuleSyntax)
type RuleSpecs []string

// String implements flag.Value.
func (s *RuleSpecs) String() string {
	if s == nil {
		return ""
	}
	return strings.Join(*s, "; ")
}

// Set implements flag.Value; it only collects, ParseRules checks.
func (s *RuleSpecs) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// maxClass bounds class numbers so ranges stay cheap to count and compare.
const maxClass = 1 << 24

// Rule drives one output pin from predictions. Parse rules with [ParseRules];
// the zero Rule is not valid.
type Rule struct {
	// Pin is the pin name as written in the rule ("GPIO17", "P1_11", or a
	// host line name); the board resolves it when the outputs are opened.
	Pin string

	busy    bool
	classes []classRange // nil: no class term
	tests   []metricTest
}

type classRange struct{ lo, hi int }

type metric uint8

const (
	metricConf metric = iota
	metricSpikeRate
)

var metricNames = [...]string{metricConf: "conf", metricSpikeRate: "spike-rate"}

type metricTest struct {
	m     metric
	op    string // one of > >= < <=
	value float32
}

// Busy reports whether the pin is a frame-busy strobe rather than a condition.
func (r Rule) Busy() bool { return r.busy }

// String returns the rule in canonical form, e.g. "GPIO17=class:3&conf>0.8".
func (r Rule) String() string {
	var s strings.Builder
	s.WriteString(r.Pin)
	s.WriteByte('=')
	if r.busy {
		s.WriteString("busy")
		return s.String()
	}
	sep := ""
	if r.classes != nil {
		s.WriteString("class:")
		for i, c := range r.classes {
			if i > 0 {
				s.WriteByte(',')
			}
			s.WriteString(strconv.Itoa(c.lo))
			if c.hi != c.lo {
				fmt.Fprintf(&s, "-%d", c.hi)
			}
		}
		sep = "&"
	}
	for _, t := range r.tests {
		fmt.Fprintf(&s, "%s%s%s%s", sep, metricNames[t.m], t.op, strconv.FormatFloat(float64(t.value), 'g', -1, 32))
		sep = "&"
	}
	return s.String()
}

// holds reports whether the rule's pin should be high for prediction p. A
// NaN confidence or rate fails every comparison, so the pin stays low.
func (r Rule) holds(p Prediction) bool {
	if r.classes != nil {
		in := false
		for _, c := range r.classes {
			if p.Class >= c.lo && p.Class <= c.hi {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	for _, t := range r.tests {
		v := p.Confidence
		if t.m == metricSpikeRate {
			v = p.SpikeRate
		}
		var ok bool
		switch t.op {
		case ">":
			ok = v > t.value
		case ">=":
			ok = v >= t.value
		case "<":
			ok = v < t.value
		case "<=":
			ok = v <= t.value
		}
		if !ok {
			return false
		}
	}
	return true
}

// ParseRules parses GPIO rules (see [RuleSyntax]); each spec is one flag
// value and may hold several rules separated by ';'. labels are the model's
// class labels, by class index, so that "class:cat" can be written; nil
// allows numbers only. A pin may appear in one rule only. Errors quote the
// rule and name the part that is wrong.
func ParseRules(labels []string, specs ...string) ([]Rule, error) {
	var rules []Rule
	seen := map[string]string{} // upper-cased pin -> rule text
	for _, spec := range specs {
		for text := range strings.SplitSeq(spec, ";") {
			text = strings.TrimSpace(text)
			if text == "" {
				return nil, fmt.Errorf("gpio rule: empty rule in %q (want PIN=COND)", spec)
			}
			rs, err := parseRule(text, labels)
			if err != nil {
				return nil, fmt.Errorf("gpio rule %q: %w", text, err)
			}
			for _, r := range rs {
				key := strings.ToUpper(r.Pin)
				if prev, dup := seen[key]; dup {
					return nil, fmt.Errorf("gpio rule %q: pin %s is already driven by rule %q", text, r.Pin, prev)
				}
				seen[key] = text
			}
			rules = append(rules, rs...)
		}
	}
	return rules, nil
}

// parseRule parses one PIN[,PIN...]=COND and returns one Rule per pin.
func parseRule(text string, labels []string) ([]Rule, error) {
	lhs, cond, ok := strings.Cut(text, "=")
	if !ok {
		return nil, errors.New("missing '=' (want PIN=COND)")
	}
	var pins []string
	for p := range strings.SplitSeq(lhs, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, errors.New("empty pin name before '='")
		}
		if strings.ContainsAny(p, " \t&:<>") {
			return nil, fmt.Errorf("pin name %q contains a space or one of &:<>", p)
		}
		pins = append(pins, p)
	}
	cond = strings.TrimSpace(cond)
	if cond == "" {
		return nil, errors.New("empty condition after '=' (want busy, class:N, conf>X or spike-rate>X)")
	}
	var r Rule
	if strings.EqualFold(cond, "busy") {
		r.busy = true
	} else {
		for term := range strings.SplitSeq(cond, "&") {
			if err := r.parseTerm(strings.TrimSpace(term), labels); err != nil {
				return nil, err
			}
		}
	}
	if len(pins) == 1 {
		r.Pin = pins[0]
		return []Rule{r}, nil
	}
	if r.busy {
		return nil, fmt.Errorf("busy takes one pin, got %d", len(pins))
	}
	// Several pins: pin i follows the i-th class of the list.
	n := 0
	for _, c := range r.classes {
		n += c.hi - c.lo + 1
	}
	if r.classes == nil || n != len(pins) {
		return nil, fmt.Errorf("%d pins need a class list of %d classes, one per pin; got %d", len(pins), len(pins), n)
	}
	var each []int
	for _, c := range r.classes {
		for k := c.lo; k <= c.hi; k++ {
			each = append(each, k)
		}
	}
	rules := make([]Rule, len(pins))
	for i, p := range pins {
		rules[i] = Rule{Pin: p, classes: []classRange{{each[i], each[i]}}, tests: r.tests}
	}
	return rules, nil
}

// parseTerm adds one '&' term to r.
func (r *Rule) parseTerm(term string, labels []string) error {
	if strings.EqualFold(term, "busy") {
		return errors.New("busy cannot be combined with other terms")
	}
	if list, ok := strings.CutPrefix(term, "class:"); ok {
		if r.classes != nil {
			return errors.New("more than one class: term")
		}
		return r.parseClasses(list, labels)
	}
	for m, name := range metricNames {
		rest, ok := strings.CutPrefix(term, name)
		if !ok {
			continue
		}
		rest = strings.TrimSpace(rest)
		op := ""
		for _, o := range []string{">=", "<=", ">", "<"} { // two-char operators first
			if strings.HasPrefix(rest, o) {
				op = o
				break
			}
		}
		if op == "" {
			return fmt.Errorf("%q: want %s followed by >, >=, < or <= and a number", term, name)
		}
		num := strings.TrimSpace(rest[len(op):])
		v, err := strconv.ParseFloat(num, 32)
		if err != nil || math.IsNaN(v) || v < 0 || v > 1 {
			return fmt.Errorf("%q: %s threshold %q is not a number in [0,1]", term, name, num)
		}
		r.tests = append(r.tests, metricTest{m: metric(m), op: op, value: float32(v)})
		return nil
	}
	return fmt.Errorf("unknown term %q (want class:N, conf>X, spike-rate>X or busy)", term)
}

// parseClasses reads a comma-separated list of class numbers, ranges a-b and
// labels.
func (r *Rule) parseClasses(list string, labels []string) error {
	r.classes = []classRange{}
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return fmt.Errorf("class list %q has an empty entry", list)
		}
		if k, err := parseClassNumber(item); err == nil {
			r.classes = append(r.classes, classRange{k, k})
			continue
		}
		if strings.TrimLeft(item, "0123456789") == "" {
			return fmt.Errorf("class %s is larger than %d", item, maxClass-1)
		}
		if lo, hi, ok := strings.Cut(item, "-"); ok {
			a, errA := parseClassNumber(lo)
			b, errB := parseClassNumber(hi)
			if errA == nil && errB == nil {
				if a > b {
					return fmt.Errorf("class range %q runs backwards", item)
				}
				r.classes = append(r.classes, classRange{a, b})
				continue
			}
			// Not two numbers: a label such as "T-shirt/top".
		}
		k := -1
		for i, l := range labels {
			if l == item {
				k = i
				break
			}
		}
		if k < 0 {
			if labels == nil {
				return fmt.Errorf("class %q is not a number and the model has no labels", item)
			}
			return fmt.Errorf("class %q is not a number or a label of the model (%s)", item, labelSample(labels))
		}
		r.classes = append(r.classes, classRange{k, k})
	}
	return nil
}

func parseClassNumber(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errors.New("not a class number")
	}
	k, err := strconv.Atoi(s)
	if err != nil || k >= maxClass {
		return 0, errors.New("class number too large")
	}
	return k, nil
}

// labelSample lists the first labels for an error message.
func labelSample(labels []string) string {
	const show = 10
	if len(labels) <= show {
		return "labels: " + strings.Join(labels, ", ")
	}
	return fmt.Sprintf("labels: %s, ... (%d in all)", strings.Join(labels[:show], ", "), len(labels))
}

// CheckClasses returns an error naming the first rule that refers to a
// class outside 0..n-1, for a model with n classes.
func CheckClasses(rules []Rule, n int) error {
	for _, r := range rules {
		for _, c := range r.classes {
			if c.hi >= n {
				return fmt.Errorf("gpio rule %q: class %d is out of range: the model has %d classes (0-%d)", r.String(), c.hi, n, n-1)
			}
		}
	}
	return nil
}
