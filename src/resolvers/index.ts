import type { Resolvers } from '../__generated__/resolvers-types.js';
import { Article } from './Article.js';
import { ArticleConnection } from './ArticleConnection.js';
import { ArticleRevision } from './ArticleRevision.js';
import { ContentBlock } from './ContentBlock.js';
import { DateTime } from './DateTime.js';
import { ImportedPage } from './ImportedPage.js';
import { Mutation } from './Mutation.js';
import { Node } from './Node.js';
import { Query } from './Query.js';
import { RelatedItem } from './RelatedItem.js';
import { SearchConnection } from './SearchConnection.js';
import { SearchHit } from './SearchHit.js';
import { Section } from './Section.js';
import { Tag } from './Tag.js';

export const resolvers: Resolvers = {
  DateTime,
  Query,
  Mutation,
  ArticleRevision,
  ImportedPage,
  Article,
  ArticleConnection,
  ContentBlock,
  Node,
  RelatedItem,
  SearchConnection,
  SearchHit,
  Section,
  Tag,
};
