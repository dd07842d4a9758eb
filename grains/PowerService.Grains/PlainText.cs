using System.Buffers;
using System.Globalization;
using System.Text;

namespace PowerService.Grains;

/// <summary>What text from outside (a request, a CSV file) may carry: no control character but tab, line feed and
/// carriage return, and in a one-line field (an id, a region, a name) none of those either. A NUL would be refused by
/// PostgreSQL inside a batch of other callers' writes, and escape sequences or forged line breaks in a region or a note
/// end up in logs and on every console. The bidi embeddings, overrides and isolates count as controls too: they show a
/// name in another order than it is written (<c>U+202E gnp.exe</c> reads "exe.png").</summary>
public static class PlainText
{
    private static readonly char[] Bidi = [.. Enumerable.Range(0x202A, 5).Select(c => (char)c), .. Enumerable.Range(0x2066, 4).Select(c => (char)c)];

    private static readonly SearchValues<char> AnyControl = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(c => (char)c), .. Enumerable.Range(0x7F, 0x21).Select(c => (char)c), .. Bidi]);

    private static readonly SearchValues<char> ControlButLineBreaks = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Where(c => c is not ('\t' or '\n' or '\r')).Select(c => (char)c), .. Enumerable.Range(0x7F, 0x21).Select(c => (char)c), .. Bidi]);

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

    /// <summary>Says which format character is at <paramref name="at"/> (<see cref="IndexOfFormat"/>).</summary>
    public static string DescribeFormat(string value, int at) =>
        string.Create(CultureInfo.InvariantCulture, $"contains the invisible format character U+{Rune.GetRuneAt(value, at).Value:X4}");
}
