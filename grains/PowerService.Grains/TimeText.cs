using System.Globalization;

namespace PowerService.Grains;

/// <summary>A moment as a refusal tells it to a person: to the minute, with its offset.</summary>
public static class TimeText
{
    public static string Minute(DateTimeOffset at) => at.ToString("yyyy-MM-dd HH:mm zzz", CultureInfo.InvariantCulture);

    /// <summary>The silo's <paramref name="at"/> on the clock of a time the person sent (<paramref name="theirs"/>): a
    /// refusal quoting "02:35 +00:00" beside their "09:00 +08:00" read as another hour, or another day.</summary>
    public static string Minute(DateTimeOffset at, DateTimeOffset theirs) => Minute(at.ToOffset(theirs.Offset));
}
