namespace PowerService.Grains.Hosting;

/// <summary>The one way a <c>Workflow</c> setting out of its range is refused: an <see cref="ArgumentException"/> naming
/// the setting as the configuration spells it (<c>Workflow:Sla:WarnAtShare must be …</c>), which the silo says in one
/// line before it stops.</summary>
internal static class WorkflowSettings
{
    public static void Require(string section, bool condition, string name, string rule)
    {
        if (!condition)
        {
            throw new ArgumentException($"Workflow:{section}:{name} {rule}.");
        }
    }

    /// <summary>A UTC offset <see cref="DateTimeOffset"/> takes: whole minutes within ±14 hours.</summary>
    public static bool IsUtcOffset(TimeSpan offset) =>
        offset.Ticks % TimeSpan.TicksPerMinute == 0 && offset >= TimeSpan.FromHours(-14) && offset <= TimeSpan.FromHours(14);
}
