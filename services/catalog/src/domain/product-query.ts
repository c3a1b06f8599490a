/** A listing request, validated at the edge. */
export interface ProductQuery {
  search?: string | undefined;
  category?: string | undefined;
  ids?: string[] | undefined;
  page: number;
  limit: number;
}

/** Which products a listing matches, whatever stores them: every condition given must hold. */
export interface ProductFilter {
  category?: string;
  /**
   * The name contains the searched text in any letter case: the source of a case-insensitive regular expression
   * in which the text's own regex characters are escaped, so they match literally.
   */
  namePattern?: string;
  ids?: string[];
}

/** One page of a listing ordered by id: how many products to skip and how many to take. */
export interface PageWindow {
  skip: number;
  limit: number;
}

export const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function productFilter(query: Pick<ProductQuery, 'search' | 'category' | 'ids'>): ProductFilter {
  return {
    ...(query.category ? { category: query.category } : {}),
    ...(query.search ? { namePattern: escapeRegex(query.search) } : {}),
    ...(query.ids ? { ids: query.ids } : {}),
  };
}

/** Pages count from 1. */
export function pageWindow({ page, limit }: Pick<ProductQuery, 'page' | 'limit'>): PageWindow {
  return { skip: (page - 1) * limit, limit };
}
