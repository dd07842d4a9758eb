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

    /// <summary>A crew id is 1 to 64 ASCII letters, digits, '-' and '_': never the separator, and a path segment of
    /// <c>/api/crews/{id}</c> as it is (a crew registered as "CR/../X" could be dispatched to but never reached).</summary>
    public static bool IsValidCrewId(string crewId) => PlainIds.IsValid(crewId);

    public const string CrewIdRule = "A crew id is 1 to 64 letters, digits, '-' or '_'.";
}
