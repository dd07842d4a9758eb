namespace PowerService.Grains.Crews;

/// <summary>Booking settings (configuration section <c>Workflow:Booking</c>).</summary>
public sealed class BookingOptions
{
    /// <summary>How long a hold keeps a slot before it is released unless confirmed.</summary>
    public TimeSpan HoldDuration { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long before its slot starts a reserved order is dispatched to the booked crew.</summary>
    public TimeSpan DispatchLead { get; set; } = TimeSpan.FromMinutes(30);
}
