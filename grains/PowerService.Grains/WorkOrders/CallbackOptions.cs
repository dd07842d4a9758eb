namespace PowerService.Grains.WorkOrders;

/// <summary>Callback (回访) settings (configuration section <c>Workflow:Callback</c>).</summary>
public sealed class CallbackOptions
{
    /// <summary>The callback must happen within this time of completion.</summary>
    public TimeSpan DueWithin { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Delay before each retry of an unreachable customer; when they run out the order closes as unreachable.</summary>
    public IList<TimeSpan> RetryDelays { get; } = [TimeSpan.FromHours(2), TimeSpan.FromHours(4), TimeSpan.FromHours(8)];

    /// <summary>A callback due before the order is resolved, or a retry at or before the attempt it follows, is refused
    /// naming the setting.</summary>
    internal void Validate()
    {
        if (DueWithin <= TimeSpan.Zero)
        {
            throw new ArgumentException($"Workflow:Callback:DueWithin must be positive, not {DueWithin:c}.");
        }
        for (var i = 0; i < RetryDelays.Count; i++)
        {
            if (RetryDelays[i] <= TimeSpan.Zero)
            {
                throw new ArgumentException($"Workflow:Callback:RetryDelays:{i} must be positive, not {RetryDelays[i]:c}.");
            }
        }
    }
}
