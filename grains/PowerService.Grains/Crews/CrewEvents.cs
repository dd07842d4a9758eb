using PowerService.Grains.WorkOrders;

namespace PowerService.Grains.Crews;

/// <summary>Journal payloads of a crew's stream (<c>crew:{id}</c>); the event type is the record name.</summary>
internal static class CrewEvents
{
    public static string StreamOf(string crewId) => JournalStreams.Crew(crewId);
}

/// <param name="MovedFrom">The region the crew worked in before, when this registration moved it: that region's consoles
/// are told it left (they went on offering it as one of theirs).</param>
internal sealed record CrewRegistered(CrewProfile Profile, string? MovedFrom = null);

internal sealed record CrewLocationReported(double Latitude, double Longitude);

internal sealed record CrewStatusChanged(CrewStatus? Previous, CrewStatus Current);

internal sealed record CrewOrderChanged(string OrderId, WorkOrderState State, bool Held);

internal sealed record SlotsPublished(IReadOnlyList<TimeSlot> Slots);

internal sealed record BookingChanged(string BookingId, string OrderId, DateTimeOffset SlotStart, BookingState State, DateTimeOffset? HoldExpiresAt);
