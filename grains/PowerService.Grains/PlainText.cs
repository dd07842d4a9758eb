using System.Buffers;
using System.Globalization;

namespace PowerService.Grains;

/// <summary>What text from outside (a request, a CSV file) may carry: no control character but tab, line feed and
/// carriage return, and in a one-line field (an id, a region, a name) none of those either. A NUL would be refused by
/// PostgreSQL inside a batch of other callers' writes, and escape sequences or forged line breaks in a region or a note
/// end up in logs and on every console.</summary>
public static class PlainText
{
    private static readonly SearchValues<char> AnyControl = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(c => (char)c), .. Enumerable.Range(0x7F, 0x21).Select(c => (char)c)]);

    private static readonly SearchValues<char> ControlButLineBreaks = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Where(c => c is not ('\t' or '\n' or '\r')).Select(c => (char)c), .. Enumerable.Range(0x7F, 0x21).Select(c => (char)c)]);

    /// <summary>Where <paramref name="value"/> has a character it may not have, or -1.</summary>
    public static int IndexOfControl(string value, bool lineBreaks) =>
        value.AsSpan().IndexOfAny(lineBreaks ? ControlButLineBreaks : AnyControl);

    public static string Describe(char control) =>
        string.Create(CultureInfo.InvariantCulture, $"contains the control character U+{(int)control:X4}");
}
