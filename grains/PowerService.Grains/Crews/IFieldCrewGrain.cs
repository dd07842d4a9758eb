using PowerService.Grains.Topology;
using PowerService.Grains.WorkOrders;
using PowerService.Runtime;

namespace PowerService.Grains.Crews;

/// <summary>A field crew (key: crew id): skills, shifts, last known location from its PDA, status, capacity, the
/// orders it holds, and the time slots it publishes for bookings (预约).</summary>
public interface IFieldCrewGrain : IGrain
{
    /// <summary>Creates or updates the crew's profile.</summary>
    Task<CrewView> Register(CrewProfile profile, string actor);

    /// <summary>The crew, or null when it was never registered.</summary>
    Task<CrewView?> Get();

    Task<CrewView> ReportLocation(GeoPoint location, string actor);

    Task<CrewView> SetStatus(CrewStatus status, string actor);

    /// <summary>An order assigned to this crew changed state; terminal or re-assigned orders leave the crew.</summary>
    Task OrderChanged(string orderId, WorkOrderState state, string? crewId);

    /// <summary>Tells its region's dispatch its stored snapshot again (skills, shifts, status, location, load). Dispatch
    /// keeps its roster written behind (at most every 30 s), so a crash can lose a crew registered or changed just
    /// before; the silo's recovery calls this for every crew the journal changed since the last checkpoint
    /// (<see cref="Recovery.ViewRecovery"/>).</summary>
    Task Reannounce();

    // ---- booking (预约) ----

    /// <summary>Publishes capacity in time slots (replaces unbooked capacity of the same slots).</summary>
    Task<IReadOnlyList<SlotView>> PublishSlots(IReadOnlyList<TimeSlot> slots, string actor);

    Task<IReadOnlyList<SlotView>> GetSlots(DateTimeOffset from, DateTimeOffset to);

    /// <summary>Holds one unit of a slot for an order; the hold expires unless confirmed in time.
    /// Throws <see cref="DomainConflictException"/> when the slot is full.</summary>
    Task<Booking> Hold(BookingRequest request);

    Task<Booking> Confirm(string bookingId, string actor);

    /// <summary>The booking, or null when this crew has none by that id.</summary>
    Task<Booking?> GetBooking(string bookingId);

    /// <summary>Frees the booking's slot, held or confirmed (its order was cancelled, merged, reassigned or reopened).</summary>
    Task Release(string bookingId, string actor);

    /// <summary>Frees a hold that was not confirmed (a customer or dispatcher letting the slot go); a confirmed booking is
    /// its order's, a <see cref="DomainConflictException"/> here (checked in this crew's turn, so a confirm and a release
    /// sent at once cannot both succeed).</summary>
    Task ReleaseHold(string bookingId, string actor);
}

/// <summary>A published shift (on duty from Start to End).</summary>
public sealed record Shift(DateTimeOffset Start, DateTimeOffset End);

public sealed record CrewProfile(
    string Name,
    string Region,
    IReadOnlyList<CrewSkill> Skills,
    int Capacity,
    GeoPoint Home,
    IReadOnlyList<Shift> Shifts);

public sealed record CrewView(
    string Id,
    CrewProfile Profile,
    CrewStatus Status,
    GeoPoint Location,
    DateTimeOffset? LocationAt,
    IReadOnlyList<string> CurrentOrders,
    IReadOnlyList<string> QueuedOrders,
    DateTimeOffset UpdatedAt);

public sealed record TimeSlot(DateTimeOffset Start, DateTimeOffset End, int Capacity);

public sealed record SlotView(DateTimeOffset Start, DateTimeOffset End, int Capacity, int Held, int Confirmed)
{
    /// <summary>The places still to be booked.</summary>
    public int Free => Capacity - Held - Confirmed;
}

/// <param name="Skill">The skill the order's work needs: a crew without it cannot be booked for it (400 naming
/// <c>crewId</c>), as dispatch would never send it.</param>
/// <param name="ByCustomer">A customer booking in the app: a slot starting within <see cref="BookingOptions.DispatchLead"/>
/// is refused (409), since the crew could not be sent in time. A dispatcher may fit a visit in sooner, agreed with the crew.</param>
/// <param name="Region">The order's region: a customer books only the crews of their order's region (400 naming
/// <c>crewId</c>), the ones <c>GET /api/bookings/times</c> offers; lending a crew to another region is a dispatcher's call.</param>
public sealed record BookingRequest(string OrderId, DateTimeOffset SlotStart, string Actor, CrewSkill? Skill = null, bool ByCustomer = false, string? Region = null);

public enum BookingState
{
    Held,
    Confirmed,
    Released,
    Expired,
}

public sealed record Booking(string Id, string CrewId, string OrderId, DateTimeOffset SlotStart, DateTimeOffset SlotEnd, BookingState State, DateTimeOffset? HoldExpiresAt);
