using PowerService.Grains.Topology;
using PowerService.Grains.WorkOrders;

namespace PowerService.Grains.Crews;

/// <summary>What a crew grain stores. Changed only by <see cref="FieldCrewGrain"/>.</summary>
internal sealed class FieldCrewState
{
    /// <summary>A copy to go back to when a change cannot be stored. The collections are copied; what they hold is
    /// immutable. A property added here must be copied too.</summary>
    public FieldCrewState Copy() => new()
    {
        Profile = Profile,
        DeclaredStatus = DeclaredStatus,
        Location = Location,
        LocationAt = LocationAt,
        Orders = new(Orders, StringComparer.Ordinal),
        Slots = [.. Slots],
        Bookings = new(Bookings, StringComparer.Ordinal),
        LastBookingNumber = LastBookingNumber,
        UpdatedAt = UpdatedAt,
    };

    public CrewProfile? Profile { get; set; }

    /// <summary>What the crew or a dispatcher last declared; orders on site or en route override it (see
    /// <see cref="FieldCrewGrain"/>).</summary>
    public CrewStatus DeclaredStatus { get; set; } = CrewStatus.Available;

    public GeoPoint Location { get; set; }

    public DateTimeOffset? LocationAt { get; set; }

    /// <summary>Orders this crew holds, by id, with the state the order last reported.</summary>
    public Dictionary<string, WorkOrderState> Orders { get; set; } = new(StringComparer.Ordinal);

    public List<SlotRecord> Slots { get; set; } = [];

    public Dictionary<string, BookingRecord> Bookings { get; set; } = new(StringComparer.Ordinal);

    public long LastBookingNumber { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed record SlotRecord(DateTimeOffset Start, DateTimeOffset End, int Capacity);

/// <param name="Skill">The skill the order's work needs, and <paramref name="CustomerRegion"/> the order's region when a
/// customer held it: checked again at the confirm (null on bookings stored before they were kept: not checked).</param>
internal sealed record BookingRecord(
    string Id,
    string OrderId,
    DateTimeOffset SlotStart,
    DateTimeOffset SlotEnd,
    BookingState State,
    DateTimeOffset? HoldExpiresAt,
    string Actor,
    CrewSkill? Skill = null,
    string? CustomerRegion = null);
