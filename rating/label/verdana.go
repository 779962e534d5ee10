package label

// verdana holds Verdana's advance widths in thousandths of an em for
// printable ASCII, from the font's metrics. Badges are measured with it, as
// shields.io's badge-maker measures them, so that no font file is needed
// and a badge's geometry is the same wherever it is rendered.
var verdana = [95]uint16{
	// space ! " # $ % & ' ( ) * + , - . /
	351, 393, 458, 818, 635, 1076, 726, 268, 454, 454, 635, 818, 363, 454, 363, 454,
	// 0-9 : ; < = > ? @
	635, 635, 635, 635, 635, 635, 635, 635, 635, 635, 454, 454, 818, 818, 818, 545, 1000,
	// A-Z
	683, 685, 698, 770, 632, 574, 775, 751, 420, 454, 692, 556, 842,
	748, 787, 603, 787, 695, 683, 616, 731, 683, 988, 685, 615, 685,
	// [ \ ] ^ _ `
	454, 454, 454, 818, 635, 635,
	// a-z
	600, 623, 520, 623, 595, 351, 623, 632, 274, 344, 591, 274, 972,
	632, 606, 623, 623, 426, 520, 394, 632, 591, 818, 591, 591, 525,
	// { | } ~
	634, 454, 634, 818,
}

// verdanaWidth is the width of one rune in thousandths of an em.
func verdanaWidth(r rune) int {
	if r >= ' ' && r <= '~' {
		return int(verdana[r-' '])
	}
	switch r {
	case '·': // middle dot
		return 363
	case '×':
		return 818
	case '–':
		return 635
	case '…':
		return 818
	case '—':
		return 1000
	case '★', '☆':
		// Verdana has no stars; browsers fall back to a font such as
		// DejaVu Sans, whose stars are this wide.
		return 838
	}
	// Unknown runes are taken to be as wide as "m", as anafanafo guesses.
	return 972
}

// verdanaText is the width in pixels of s set in Verdana at size px.
func verdanaText(s string, size float64) float64 {
	n := 0
	for _, r := range s {
		n += verdanaWidth(r)
	}
	return float64(n) * size / 1000
}
