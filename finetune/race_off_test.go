//go:build !race

package finetune

const raceEnabled = false
