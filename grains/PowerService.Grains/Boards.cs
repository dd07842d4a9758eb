namespace PowerService.Grains;

/// <summary>What the board grains (the outage board, the planned-outage calendar) do alike: keep the most recently
/// finished rows in a bounded list, and check a page request.</summary>
internal static class Boards
{
    /// <summary>Puts <paramref name="row"/> last in <paramref name="finished"/>, replacing the one it matches, and drops
    /// the oldest beyond <paramref name="kept"/>.</summary>
    public static void AddFinished<T>(List<T> finished, T row, Predicate<T> sameEntity, int kept)
    {
        finished.RemoveAll(sameEntity);
        finished.Add(row);
        if (finished.Count > kept)
        {
            finished.RemoveRange(0, finished.Count - kept);
        }
    }

    /// <summary>Throws <see cref="InvalidFieldException"/> naming <c>skip</c> or <c>take</c> when a page is out of range.</summary>
    public static void CheckPage(int skip, int take, int maxTake)
    {
        if (skip < 0)
        {
            throw new InvalidFieldException("skip", "skip is 0 or more.");
        }
        if (take < 1 || take > maxTake)
        {
            throw new InvalidFieldException("take", $"take is between 1 and {maxTake}.");
        }
    }
}
