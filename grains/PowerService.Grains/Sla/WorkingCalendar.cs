namespace PowerService.Grains.Sla;

/// <summary>Working days in the utility's local time: Monday to Friday, minus holidays, plus make-up working days
/// (调休). Working-day clocks run through whole working days and stand still on the others, so "5 working days" from
/// Monday 09:00 is the next Monday 09:00.</summary>
internal sealed class WorkingCalendar(SlaOptions options)
{
    // A working-day limit longer than this many calendar days means a misconfigured calendar (no working days at all).
    private const int MaxDaysSearched = 3660;

    private readonly HashSet<DateOnly> _holidays = [.. options.Holidays];
    private readonly HashSet<DateOnly> _makeUpDays = [.. options.MakeUpWorkingDays];
    private readonly TimeSpan _offset = options.LocalUtcOffset;

    public bool IsWorkingDay(DateOnly day) =>
        _makeUpDays.Contains(day) || (day.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday) && !_holidays.Contains(day));

    /// <summary>The instant at which <paramref name="amount"/> of working time has run from <paramref name="start"/>.</summary>
    public DateTimeOffset AddWorkingTime(DateTimeOffset start, TimeSpan amount)
    {
        var at = start.ToOffset(_offset);
        var remaining = amount;
        for (var days = 0; days < MaxDaysSearched; days++)
        {
            var day = DateOnly.FromDateTime(at.DateTime);
            var dayEnd = new DateTimeOffset(day.AddDays(1).ToDateTime(TimeOnly.MinValue), _offset);
            if (IsWorkingDay(day))
            {
                var left = dayEnd - at;
                if (remaining <= left)
                {
                    return (at + remaining).ToOffset(start.Offset);
                }
                remaining -= left;
            }
            at = dayEnd;
        }
        throw new InvalidOperationException($"The working calendar has no working time within {MaxDaysSearched} days of {start:O}.");
    }

    /// <summary>Working time between two instants (zero when <paramref name="to"/> is not after <paramref name="from"/>).</summary>
    public TimeSpan WorkingTimeBetween(DateTimeOffset from, DateTimeOffset to)
    {
        var total = TimeSpan.Zero;
        var at = from.ToOffset(_offset);
        while (at < to)
        {
            var day = DateOnly.FromDateTime(at.DateTime);
            var dayEnd = new DateTimeOffset(day.AddDays(1).ToDateTime(TimeOnly.MinValue), _offset);
            var end = dayEnd < to ? dayEnd : to.ToOffset(_offset);
            if (IsWorkingDay(day))
            {
                total += end - at;
            }
            at = dayEnd;
        }
        return total;
    }
}
