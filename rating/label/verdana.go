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
	case 'µ':
		return 642
	case '✓':
		// Nor a check mark: DejaVu Sans's is 1716/2048 em.
		return 838
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

// verdanaBold holds Verdana Bold's advance widths in thousandths of an em
// for printable ASCII: anafanafo's "bold 10px Verdana" table (v2.0.0, MIT),
// which badge-maker measures the message of a for-the-badge badge with.
var verdanaBold = [95]uint16{
	// space ! " # $ % & ' ( ) * + , - . /
	342, 402, 587, 867, 711, 1272, 862, 332, 543, 543, 711, 867, 361, 480, 361, 689,
	// 0-9 : ; < = > ? @
	711, 711, 711, 711, 711, 711, 711, 711, 711, 711, 402, 402, 867, 867, 867, 617, 964,
	// A-Z
	776, 762, 724, 830, 683, 650, 811, 837, 546, 555, 771, 637, 948,
	847, 850, 733, 850, 782, 710, 682, 812, 764, 1128, 764, 737, 692,
	// [ \ ] ^ _ `
	543, 689, 543, 867, 711, 711,
	// a-z
	668, 699, 588, 699, 664, 422, 699, 712, 342, 403, 671, 342, 1058,
	712, 687, 699, 699, 497, 593, 456, 712, 650, 979, 669, 651, 597,
	// { | } ~
	711, 543, 711, 867,
}

// verdanaBoldWidth is the width of one rune of Verdana Bold in thousandths
// of an em.
func verdanaBoldWidth(r rune) int {
	if r >= ' ' && r <= '~' {
		return int(verdanaBold[r-' '])
	}
	switch r {
	case '·':
		return 361
	case '×':
		return 867
	case '–':
		return 711
	case '…':
		return 1049
	case '—':
		return 1000
	case 'µ':
		return 721
	case '✓':
		return 838 // as in the regular table: the fallback font's check mark
	case '★', '☆':
		return 838 // as in the regular table: the fallback font's stars
	}
	return 1058 // "m", as for the regular table
}

// verdanaBoldText is the width in pixels of s set in Verdana Bold at size px.
func verdanaBoldText(s string, size float64) float64 {
	n := 0
	for _, r := range s {
		n += verdanaBoldWidth(r)
	}
	return float64(n) * size / 1000
}
