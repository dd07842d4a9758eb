using System.Globalization;
using System.Text;

namespace PowerService.Grains;

/// <summary>Where a row sits in a list ordered by a rank, then by id: the continuation token of keyset paging. A page
/// goes on after the last row the client read, so rows added or removed meanwhile do not shift the rows it has not read
/// yet (with skip/take a restored outage made the pager miss an active one). Opaque to clients: base64url of
/// "rank:id"; a token this service did not issue is a 400 naming <c>continuationToken</c>.</summary>
public readonly record struct ListPosition(long Rank, string Id)
{
    public const string Field = "continuationToken";

    /// <summary>The rank of a list newest first: a later moment ranks lower.</summary>
    public static long Newest(DateTimeOffset at) => long.MaxValue - at.UtcTicks;

    public int CompareTo(ListPosition other)
    {
        var byRank = Rank.CompareTo(other.Rank);
        return byRank != 0 ? byRank : string.CompareOrdinal(Id, other.Id);
    }

    public string ToToken() =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{Rank}:{Id}"))).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static ListPosition Parse(string token)
    {
        try
        {
            var base64 = token.Replace('-', '+').Replace('_', '/');
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=')));
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && colon < text.Length - 1 && long.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var rank))
            {
                return new ListPosition(rank, text[(colon + 1)..]);
            }
        }
        catch (FormatException)
        {
            // Not base64: reported below like any other token this service did not issue.
        }
        throw new InvalidFieldException(Field, "The continuation token is not one this service issued; start again without it.");
    }

    /// <summary>One page of <paramref name="ordered"/> (in position order): the rows after <paramref name="token"/>, or
    /// after the first <paramref name="skip"/> rows, at most <paramref name="take"/>; the token of its last row when more
    /// follow.</summary>
    public static (List<T> Items, string? Next) Page<T>(IReadOnlyList<T> ordered, Func<T, ListPosition> position, string? token, int skip, int take)
    {
        var start = skip;
        if (token is not null)
        {
            if (skip != 0)
            {
                throw new InvalidFieldException("skip", "skip is not taken with a continuation token: the token says where the page starts.");
            }
            var after = Parse(token);
            start = 0;
            while (start < ordered.Count && position(ordered[start]).CompareTo(after) <= 0)
            {
                start++;
            }
        }
        var items = ordered.Skip(start).Take(take).ToList();
        return (items, start + items.Count < ordered.Count && items.Count > 0 ? position(items[^1]).ToToken() : null);
    }
}
