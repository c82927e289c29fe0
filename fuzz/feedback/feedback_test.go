package feedback

import "testing"

func TestTrace(t *testing.T) {
	var a, b Trace
	for _, c := range []int{220, 250, 250, 354, 250, 221} {
		a.Reply("X", c)
	}
	for _, c := range []int{220, 250, 503, 221} {
		b.Reply("X", c)
	}
	if a.Len() != 6 || b.Len() != 4 {
		t.Errorf("Len = %d, %d; want 6, 4", a.Len(), b.Len())
	}
	if a.Sum() == b.Sum() {
		t.Errorf("different sequences have the same Sum %x", a.Sum())
	}
	marked := 0
	for _, w := range a.seen {
		for ; w != 0; w &= w - 1 {
			marked++
		}
	}
	// 6 replies, 3 features each, some repeated (250 after 250 twice).
	if marked == 0 || marked > 18 {
		t.Errorf("%d features marked, want between 1 and 18", marked)
	}
	for i := uint32(0); i < 10000; i++ {
		if m := mix(i%4, i, i*7); m >= Buckets {
			t.Fatalf("mix = %d, not below %d", m, Buckets)
		}
	}
}
