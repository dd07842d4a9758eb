using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace PowerService.Grains;

/// <summary>What text from outside (a request, a CSV file) may carry: no control character but tab, line feed and
/// carriage return, and in a one-line field (an id, a region, a name) none of those either. A NUL would be refused by
/// PostgreSQL inside a batch of other callers' writes, and escape sequences or forged line breaks in a region or a note
/// end up in logs and on every console. The bidi embeddings, overrides and isolates count as controls too: they show a
/// name in another order than it is written (<c>U+202E gnp.exe</c> reads "exe.png").</summary>
public static partial class PlainText
{
    private static readonly char[] Bidi = [.. Enumerable.Range(0x202A, 5).Select(c => (char)c), .. Enumerable.Range(0x2066, 4).Select(c => (char)c)];

    // U+2028 and U+2029 are line breaks too: not in a one-line field.
    private static readonly SearchValues<char> AnyControl = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(c => (char)c), .. Enumerable.Range(0x7F, 0x21).Select(c => (char)c), .. Bidi, '\u2028', '\u2029']);

    private static readonly SearchValues<char> ControlButLineBreaks = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Where(c => c is not ('\t' or '\n' or '\r')).Select(c => (char)c), .. Enumerable.Range(0x7F, 0x21).Select(c => (char)c), .. Bidi]);

    /// <summary>How many characters <paramref name="value"/> has as a person counts them (Unicode code points): an emoji
    /// is one, not the two UTF-16 units .NET's Length counts (1,500 emoji were refused as "longer than 2000 characters").
    /// </summary>
    public static int Characters(string value)
    {
        var characters = value.Length;
        foreach (var c in value)
        {
            if (char.IsLowSurrogate(c))
            {
                characters--; // the second half of a pair
            }
        }
        return characters;
    }

    /// <summary>Where <paramref name="value"/> has a character it may not have, or -1.</summary>
    public static int IndexOfControl(string value, bool lineBreaks) =>
        value.AsSpan().IndexOfAny(lineBreaks ? ControlButLineBreaks : AnyControl);

    public static string Describe(char control) => control is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069'
        ? string.Create(CultureInfo.InvariantCulture, $"contains the control character U+{(int)control:X4} (a bidi control: it shows text in another order than it is written)")
        : string.Create(CultureInfo.InvariantCulture, $"contains the control character U+{(int)control:X4}");

    /// <summary>Where <paramref name="value"/> has a Unicode format character (category Cf: zero-width space and
    /// joiners, bidi controls, a BOM, tag characters), or -1. Names keep the joiners (scripts and emoji need them), but an
    /// id or a region with one looks like the one without it on every screen while being another.</summary>
    public static int IndexOfFormat(string value)
    {
        var at = 0;
        foreach (var rune in value.EnumerateRunes())
        {
            if (Rune.GetUnicodeCategory(rune) == UnicodeCategory.Format)
            {
                return at;
            }
            at += rune.Utf16SequenceLength;
        }
        return -1;
    }

    /// <summary>Blank-looking letters and symbols: the Hangul fillers and the braille blank show as nothing or a space.</summary>
    private static readonly int[] BlankLetters = [0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800];

    /// <summary>Where <paramref name="value"/> has a character that shows as nothing or as another: a format character
    /// (<see cref="IndexOfFormat"/>), a combining mark (variation selectors after a phone's copy, the combining grapheme
    /// joiner), a space other than U+0020 (no-break, ideographic), a Hangul filler or the braille blank; or -1. For what
    /// must be told apart by eye — a region: <c>海口龙华</c> with U+FE0F after it is another region, shown the same.</summary>
    public static int IndexOfInvisible(string value)
    {
        var at = 0;
        foreach (var rune in value.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            if (category is UnicodeCategory.Format or UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark
                || (category == UnicodeCategory.SpaceSeparator && rune.Value != ' ') || BlankLetters.Contains(rune.Value))
            {
                return at;
            }
            at += rune.Utf16SequenceLength;
        }
        return -1;
    }

    /// <summary>The web address <paramref name="text"/> holds, as written after folding (or null): what the utility
    /// tells customers word for word (an outage's cause, a planned outage's reason) says what failed, never where to
    /// go — a phone turns <c>evil.cn/pay</c> into a link, in a message under the utility's name. Full-width forms are
    /// folded, invisible characters dropped and ideographic full stops read as dots first, so <c>ｗｗｗ．x．cn</c>,
    /// <c>w​ww.x.cn</c> and <c>x。cn/pay</c> are caught; a host is a name with a common top-level domain, or any name
    /// with a path after it.</summary>
    public static string? FindWebAddress(string text)
    {
        // By hand: the silo runs without ICU (invariant globalization), where NFKC folds nothing.
        var folded = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune.Value is 0x3002 or 0xFF61)
            {
                folded.Append('.');
            }
            else if (rune.Value is >= 0xFF01 and <= 0xFF5E)
            {
                folded.Append((char)(rune.Value - 0xFEE0)); // full-width ASCII
            }
            else if (Rune.GetUnicodeCategory(rune) is not (UnicodeCategory.Format or UnicodeCategory.NonSpacingMark))
            {
                folded.Append(rune.ToString());
            }
        }
        var match = WebAddress().Match(folded.ToString());
        return match.Success ? match.Value : null;
    }

    [GeneratedRegex(@"[a-z0-9+.-]*:\s*//\S*|www\s*\.\S*|(?<![a-z0-9-])[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*\.(?:(?:com|cn|net|org|top|xyz|cc|vip|info|io|me|co|tk|ml|ga|cf|gq|site|online|shop|club|app|link|ly|hk|tw|us|ru|win|bid|ink|wang|ltd|biz|asia|mobi|pro|live|icu|fun|work|store|tech|so|tv|pw|cloud|email|click|page)(?![a-z0-9])|[a-z]{2,}/\S*)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex WebAddress();

    /// <summary>Says which format character is at <paramref name="at"/> (<see cref="IndexOfFormat"/>).</summary>
    public static string DescribeFormat(string value, int at) =>
        string.Create(CultureInfo.InvariantCulture, $"contains the invisible format character U+{Rune.GetRuneAt(value, at).Value:X4}");

    /// <summary>Says which character is at <paramref name="at"/> (<see cref="IndexOfInvisible"/>).</summary>
    public static string DescribeInvisible(string value, int at) =>
        string.Create(CultureInfo.InvariantCulture, $"contains U+{Rune.GetRuneAt(value, at).Value:X4}, which shows as nothing or as another character");
}
