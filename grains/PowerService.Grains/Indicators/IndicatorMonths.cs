using System.Globalization;

namespace PowerService.Grains.Indicators;

/// <summary>Indicators are counted per month of the utility's local time (<c>yyyy-MM</c>): a month closes at local
/// midnight, as the reports it feeds are read.</summary>
internal sealed class IndicatorMonths(TimeSpan localUtcOffset)
{
    private const string Format = "yyyy-MM";

    // Months whose local start and the month after stay inside DateTimeOffset for any UTC offset (year 1 at +08:00
    // starts in year 0 UTC).
    private const int FirstYear = 1900;
    private const int LastYear = 9998;

    public string Of(DateTimeOffset at) => at.ToOffset(localUtcOffset).ToString(Format, CultureInfo.InvariantCulture);

    public DateTimeOffset Start(string month) =>
        new(DateTime.ParseExact(month, Format, CultureInfo.InvariantCulture), localUtcOffset);

    /// <summary>The month <paramref name="text"/> names, or an <see cref="InvalidFieldException"/> naming <paramref name="field"/>.</summary>
    public static string Parse(string text, string field) =>
        text.Length == Format.Length && DateTime.TryParseExact(text, Format, CultureInfo.InvariantCulture, DateTimeStyles.None, out var month)
            ? month.Year is >= FirstYear and <= LastYear
                ? text
                : throw new InvalidFieldException(field, $"{field} is a month from {FirstYear}-01 to {LastYear}-12.")
            : throw new InvalidFieldException(field, $"{field} is a month written yyyy-MM, e.g. 2026-11.");
}
