package boards_test

import (
	"flag"
	"strings"
	"testing"

	"github.com/bsnn/bsnn/boards"
)

var fashion = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

func canonical(rules []boards.Rule) string {
	s := make([]string, len(rules))
	for i, r := range rules {
		s[i] = r.String()
	}
	return strings.Join(s, "; ")
}

func TestParseRules(t *testing.T) {
	tests := []struct {
		specs  []string
		labels []string
		want   string
	}{
		{[]string{"GPIO17=class:3"}, nil, "GPIO17=class:3"},
		{[]string{"GPIO27=spike-rate>0.2"}, nil, "GPIO27=spike-rate>0.2"},
		{[]string{"GPIO23=busy"}, nil, "GPIO23=busy"},
		{[]string{" GPIO23 = BUSY "}, nil, "GPIO23=busy"},
		{[]string{"GPIO17=class:0-3,7,9-9"}, nil, "GPIO17=class:0-3,7,9"},
		{[]string{"GPIO22 = class:Sandal & conf >= 0.8"}, fashion, "GPIO22=class:5&conf>=0.8"},
		{[]string{"GPIO22=class:T-shirt/top,Ankle boot"}, fashion, "GPIO22=class:0,9"},
		{[]string{"GPIO22=conf<=1&spike-rate<0.05&conf>0"}, nil, "GPIO22=conf<=1&spike-rate<0.05&conf>0"},
		// A pin list takes one class per pin, in order; other terms apply to all.
		{[]string{"GPIO5,GPIO6,GPIO13=class:0-2"}, nil, "GPIO5=class:0; GPIO6=class:1; GPIO13=class:2"},
		{[]string{"GPIO5, GPIO6=class:7,Trouser&conf>0.5"}, fashion, "GPIO5=class:7&conf>0.5; GPIO6=class:1&conf>0.5"},
		// Several rules per spec and several specs.
		{[]string{"GPIO17=class:3;GPIO27=spike-rate>0.2", "P1_16=busy"}, nil, "GPIO17=class:3; GPIO27=spike-rate>0.2; P1_16=busy"},
		{nil, nil, ""},
	}
	for _, tt := range tests {
		rules, err := boards.ParseRules(tt.labels, tt.specs...)
		if err != nil {
			t.Errorf("ParseRules(%q): %v", tt.specs, err)
			continue
		}
		if got := canonical(rules); got != tt.want {
			t.Errorf("ParseRules(%q) = %q, want %q", tt.specs, got, tt.want)
		}
		// The canonical form parses back to itself.
		if len(rules) > 0 {
			again, err := boards.ParseRules(nil, strings.Split(canonical(rules), "; ")...)
			if err != nil || canonical(again) != tt.want {
				t.Errorf("round trip of %q: %q, %v", tt.want, canonical(again), err)
			}
		}
	}
}

func TestParseRulesErrors(t *testing.T) {
	tests := []struct {
		spec   string
		labels []string
		want   string // substring of the error
	}{
		{"", nil, "empty rule"},
		{"GPIO17=class:3;", nil, "empty rule"},
		{"GPIO17", nil, "missing '='"},
		{"=class:3", nil, "empty pin name"},
		{"GPIO5,,GPIO6=class:1,2", nil, "empty pin name"},
		{"GPIO 17=class:3", nil, `pin name "GPIO 17" contains a space`},
		{"GPIO17=", nil, "empty condition"},
		{"GPIO17=clas:3", nil, `unknown term "clas:3"`},
		{"GPIO17=Class:3", nil, "unknown term"},
		{"GPIO17=class:", nil, "empty entry"},
		{"GPIO17=class:1,,2", nil, "empty entry"},
		{"GPIO17=class:3-1", nil, "runs backwards"},
		{"GPIO17=class:99999999999", nil, "larger than"},
		{"GPIO17=class:dog", nil, "not a number and the model has no labels"},
		{"GPIO17=class:dog", fashion, `"dog" is not a number or a label of the model (labels: T-shirt/top, Trouser`},
		{"GPIO17=class:1-x", nil, "no labels"},
		{"GPIO17=conf>1.5", nil, `threshold "1.5" is not a number in [0,1]`},
		{"GPIO17=conf>-0.1", nil, "not a number in [0,1]"},
		{"GPIO17=conf>NaN", nil, "not a number in [0,1]"},
		{"GPIO17=conf>", nil, `threshold "" is not a number`},
		{"GPIO17=conf=0.5", nil, "want conf followed by >, >=, < or <="},
		{"GPIO17=confidence>0.5", nil, "want conf followed by"},
		{"GPIO17=spike-rate!0.2", nil, "want spike-rate followed by"},
		{"GPIO17=busy&class:3", nil, "busy cannot be combined"},
		{"GPIO17=class:1&class:2", nil, "more than one class: term"},
		{"GPIO5,GPIO6=class:0-2", nil, "2 pins need a class list of 2 classes, one per pin; got 3"},
		{"GPIO5,GPIO6=conf>0.5", nil, "got 0"},
		{"GPIO5,GPIO6=busy", nil, "busy takes one pin"},
		{"GPIO17=class:1;gpio17=busy", nil, `pin gpio17 is already driven by rule "GPIO17=class:1"`},
		{"GPIO5,GPIO5=class:1,2", nil, "already driven"},
	}
	for _, tt := range tests {
		_, err := boards.ParseRules(tt.labels, tt.spec)
		if err == nil {
			t.Errorf("ParseRules(%q) succeeded, want error with %q", tt.spec, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "gpio rule") {
			t.Errorf("ParseRules(%q) error %q, want it to start with \"gpio rule\" and contain %q", tt.spec, err, tt.want)
		}
	}
	// Duplicates are caught across flag values too.
	if _, err := boards.ParseRules(nil, "GPIO17=class:1", "GPIO17=class:2"); err == nil {
		t.Error("duplicate pin across specs accepted")
	}
}

func TestRuleSpecsFlag(t *testing.T) {
	var specs boards.RuleSpecs
	fs := flag.NewFlagSet("bsnn-run", flag.ContinueOnError)
	fs.Var(&specs, "gpio", boards.RuleSyntax)
	if err := fs.Parse([]string{"-gpio", "GPIO17=class:Bag", "-gpio", "GPIO22=busy;GPIO27=spike-rate>0.2"}); err != nil {
		t.Fatal(err)
	}
	rules, err := boards.ParseRules(fashion, specs...)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := canonical(rules), "GPIO17=class:8; GPIO22=busy; GPIO27=spike-rate>0.2"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := specs.String(); got != "GPIO17=class:Bag; GPIO22=busy;GPIO27=spike-rate>0.2" {
		t.Errorf("String %q", got)
	}
}

func TestCheckClasses(t *testing.T) {
	rules, err := boards.ParseRules(nil, "GPIO17=class:0-9", "GPIO27=conf>0.5")
	if err != nil {
		t.Fatal(err)
	}
	if err := boards.CheckClasses(rules, 10); err != nil {
		t.Errorf("10 classes: %v", err)
	}
	err = boards.CheckClasses(rules, 9)
	if err == nil || !strings.Contains(err.Error(), `"GPIO17=class:0-9": class 9 is out of range: the model has 9 classes (0-8)`) {
		t.Errorf("9 classes: %v", err)
	}
}
