namespace PowerService.Grains.Crews;

/// <summary>Booking ids name the crew that holds the slot (<c>{crewId}~{number}</c>), so a booking id alone routes
/// to the crew grain.</summary>
public static class BookingId
{
    private const char Separator = '~';

    public static string Create(string crewId, long number) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{crewId}{Separator}{number}");

    /// <summary>The crew of a booking id, or null when the id is not one.</summary>
    public static string? CrewOf(string bookingId)
    {
        var at = bookingId.LastIndexOf(Separator);
        return at > 0 && at < bookingId.Length - 1 ? bookingId[..at] : null;
    }

    /// <summary>A crew id may not contain the separator.</summary>
    public static bool IsValidCrewId(string crewId) => !string.IsNullOrWhiteSpace(crewId) && !crewId.Contains(Separator, StringComparison.Ordinal);
}
